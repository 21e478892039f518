/** The cluster controller: reads a Cluster and what it owns, plans, then acts idempotently. */
import type { Backup, Cluster, Condition, Instance, InstanceSpec, Node, OwnerReference, Resource, Secret } from "../../api/index.ts";
import { AlreadyExistsError, NotFoundError, UnavailableError } from "../../errors/index.ts";
import type { Store } from "../../store/index.ts";
import { initialAccountPassword } from "./account-password.ts";
import { carryOutRotation, holderComponents, planRotation, type AccountHolders } from "./password-rotation.ts";
import { splitKey, type EventRecorder, type ReconcileResult, type Reconciler } from "../runtime/index.ts";
import { CLUSTER_FINALIZER, LABEL_ACCOUNT, LABEL_INSTANCE, componentLabels } from "./labels.ts";
import { osUserOfCluster, planCluster, type ClusterPlan, type InstanceToCreate, type ResolvedComponent } from "./plan.ts";
import { placedInstances, type NodeView } from "./placement.ts";
import type { PortMove } from "./port-moves.ts";
import { INSTANCES_SPREAD, type Rebuild } from "./rebuild.ts";
import { resolveComponents, type EngineLookup } from "./resolve.ts";

/** Hands out a port for a new instance, given the ports already recorded. */
export type PortAllocator = (inUse: ReadonlySet<number>) => Promise<number>;

export interface ClusterReconcilerOptions {
  store: Store;
  engines: EngineLookup;
  events: EventRecorder;
  allocatePort: PortAllocator;
  /** Removes the OS user of a deleted cluster once its instances are gone (the runtime's OsUsers.remove). */
  releaseOsUser?: (name: string) => Promise<void>;
}

/** How often to look again while a cluster is on its way somewhere (instance changes also wake it). */
const SETTLING_REQUEUE_MS = 5000;
/** How often to look again while a password rotation is under way (instance status changes also wake it). */
const ROTATION_REQUEUE_MS = 1000;

export class ClusterReconciler implements Reconciler {
  readonly #options: ClusterReconcilerOptions;
  /** Port allocation and the write of the port happen one at a time, so two instances never pick the same port. */
  #portLock: Promise<unknown> = Promise.resolve();

  constructor(options: ClusterReconcilerOptions) {
    this.#options = options;
  }

  async reconcile(key: string): Promise<ReconcileResult | undefined> {
    const { namespace, name } = splitKey(key);
    const { store } = this.#options;
    const cluster = await store.get<Cluster>({ kind: "Cluster", ...(namespace === undefined ? {} : { namespace }), name });
    if (!cluster) return undefined;
    const owned = await this.#owned(cluster);
    const resolution = await resolveComponents(cluster, this.#options.engines);
    const nodes = await this.#nodes();
    const plan = planCluster(
      { cluster, components: resolution.components, instances: owned.instances, existingSecrets: owned.secrets, nodes, nowMs: Date.now(), ...(resolution.error === undefined ? {} : { resolveError: resolution.error }), ...(owned.backups === undefined ? {} : { backups: owned.backups }) },
      CLUSTER_FINALIZER,
    );
    await this.#act(cluster, plan);
    const rotation = planRotation({
      annotations: cluster.metadata.annotations,
      secrets: owned.secretObjects,
      instances: owned.instances,
      refuses: (component, account) => this.#refusesRotation(resolution.components, component, account),
      holders: (component, account) => this.#accountHolders(cluster, resolution.components, component, account),
    });
    await carryOutRotation(store, this.#options.events, cluster, rotation);
    if (rotation.underWay) return { requeueAfterMs: ROTATION_REQUEUE_MS };
    const phase = plan.status.phase;
    return phase === "Running" || phase === "Stopped" || phase === "Failed" ? { requeueAfterMs: 30_000 } : { requeueAfterMs: SETTLING_REQUEUE_MS };
  }

  /** The nodes, and the instances bound to each (of every cluster), for placing new instances. */
  async #nodes(): Promise<NodeView> {
    const [nodes, instances] = await Promise.all([this.#options.store.list<Node>("Node"), this.#options.store.list<Instance>("Instance")]);
    return { nodes: nodes.items, placed: placedInstances(instances.items) };
  }

  /** Why the engine of `component` cannot rotate `account`'s password online (ADR 0038); undefined when it can. */
  #refusesRotation(components: readonly ResolvedComponent[], component: string, account: string): string | undefined {
    const engineName = components.find((c) => c.name === component)?.engine ?? "";
    const passwords = this.#options.engines.find(engineName)?.passwords;
    return passwords === undefined ? `${engineName || "this engine"} passwords are not rotated online yet` : passwords.refuses(account);
  }

  /** Who holds `account` of `component` (ADR 0038): its instances, and its arbiters' for the account they log in with. */
  #accountHolders(cluster: Cluster, components: readonly ResolvedComponent[], component: string, account: string): AccountHolders {
    const engine = this.#options.engines.find(components.find((c) => c.name === component)?.engine ?? "");
    return { components: holderComponents(cluster, engine, component, account), keepsPrevious: engine?.passwords?.keepsPrevious === true };
  }

  async #owned(cluster: Cluster): Promise<{ instances: Instance[]; secrets: Set<string>; secretObjects: Secret[]; backups?: Backup[] }> {
    const options = { ...(cluster.metadata.namespace === undefined ? {} : { namespace: cluster.metadata.namespace }), labelSelector: `${LABEL_INSTANCE}=${cluster.metadata.name}` };
    const isOwned = (r: Resource): boolean => (r.metadata.ownerReferences ?? []).some((o) => o.uid === cluster.metadata.uid);
    const instances = (await this.#options.store.list<Instance>("Instance", options)).items.filter(isOwned);
    const secrets = (await this.#options.store.list<Secret>("Secret", options)).items.filter(isOwned);
    const wipeOut = cluster.metadata.deletionTimestamp !== undefined && cluster.spec.terminationPolicy === "WipeOut";
    // Backups are not owned by the cluster (Delete keeps them); they carry its instance label.
    const backups = wipeOut ? (await this.#options.store.list<Backup>("Backup", options)).items : undefined;
    return { instances, secrets: new Set(secrets.map((s) => s.metadata.name)), secretObjects: secrets, ...(backups === undefined ? {} : { backups }) };
  }

  async #act(cluster: Cluster, plan: ClusterPlan): Promise<void> {
    let live = cluster;
    if (plan.addFinalizer) live = await this.#options.store.update<Cluster>({ ...live, metadata: { ...live.metadata, finalizers: [...(live.metadata.finalizers ?? []), CLUSTER_FINALIZER] } });
    for (const secret of plan.secretsToCreate) await this.#createSecret(live, secret);
    await this.#createInstances(live, plan);
    for (const change of plan.instancesToUpdate) await this.#updateInstance(live, change.name, change.spec);
    await this.#relocate(live, plan);
    for (const name of plan.instancesToDelete) await this.#deleteInstance(live, name);
    for (const name of plan.backupsToDelete ?? []) await this.#deleteBackup(live, name);
    live = await this.#writeStatus(live, plan);
    for (const s of plan.rolloutSwitchovers ?? []) await this.#options.events.record(live, "Normal", "SwitchoverRequested", `rolling restart of ${s.component}: switching over ${s.from} → ${s.to} before restarting the primary`);
    if (plan.removeFinalizer) {
      // Every instance is gone with its data and processes: nothing of the cluster's user remains.
      await this.#options.releaseOsUser?.(osUserOfCluster(live));
      await this.#options.store.update<Cluster>({ ...live, metadata: { ...live.metadata, finalizers: (live.metadata.finalizers ?? []).filter((f) => f !== CLUSTER_FINALIZER) } });
    }
  }

  async #writeStatus(cluster: Cluster, plan: ClusterPlan): Promise<Cluster> {
    if (JSON.stringify(cluster.status) === JSON.stringify(plan.status)) return cluster;
    const updated = await this.#options.store.updateStatus<Cluster>({ ...cluster, status: plan.status });
    const before = cluster.status?.phase;
    const after = plan.status.phase;
    if (before !== after && after !== undefined) {
      const warning = after === "Failed" || after === "Abnormal";
      const detail = plan.status.message === undefined ? "" : `: ${plan.status.message}`;
      await this.#options.events.record(updated, warning ? "Warning" : "Normal", after, `cluster phase ${before ?? "(new)"} → ${after}${detail}`);
    }
    await this.#reportLimitations(cluster, updated);
    await this.#reportSpread(cluster, updated);
    return updated;
  }

  /** An event when the InstancesSpread condition changes status (NotEnoughNodes as a warning). */
  async #reportSpread(before: Cluster, after: Cluster): Promise<void> {
    const spread = (c: Cluster): Condition | undefined => c.status?.conditions?.find((x) => x.type === INSTANCES_SPREAD);
    const now = spread(after);
    if (now === undefined || now.status === spread(before)?.status) return;
    if (now.status === "False") await this.#options.events.record(after, "Warning", now.reason, now.message);
    else if (spread(before) !== undefined) await this.#options.events.record(after, "Normal", INSTANCES_SPREAD, now.message);
  }

  /** An event naming the fields not honoured, whenever that list changes (the RuntimeLimitations condition holds it too). */
  async #reportLimitations(before: Cluster, after: Cluster): Promise<void> {
    const limitation = (c: Cluster): Condition | undefined => c.status?.conditions?.find((x) => x.type === "RuntimeLimitations");
    const now = limitation(after);
    if (now?.status !== "True" || now.message === limitation(before)?.message) return;
    await this.#options.events.record(after, "Warning", "FieldsNotHonoured", now.message);
  }

  /** The account's first password; why not yet is shown on the cluster (describe), then retried with backoff. */
  async #initialPassword(cluster: Cluster, secret: ClusterPlan["secretsToCreate"][number]): Promise<string> {
    try {
      return await initialAccountPassword(this.#options.store, cluster, secret.component, secret.account);
    } catch (error) {
      if (error instanceof UnavailableError) await this.#options.events.record(cluster, "Warning", "AccountPasswordPending", error.message);
      throw error;
    }
  }

  async #createSecret(cluster: Cluster, secret: ClusterPlan["secretsToCreate"][number]): Promise<void> {
    const password = await this.#initialPassword(cluster, secret);
    const object: Secret = {
      apiVersion: "v1",
      kind: "Secret",
      type: "Opaque",
      metadata: {
        name: secret.name,
        ...namespaceOf(cluster),
        labels: { ...componentLabels(cluster.metadata.name, secret.component), [LABEL_ACCOUNT]: secret.account },
        ownerReferences: [ownerReference(cluster)],
      },
      data: { username: Buffer.from(secret.account).toString("base64"), password: Buffer.from(password).toString("base64") },
    };
    await ignore(AlreadyExistsError, this.#options.store.create(object));
  }

  /** Create the instances bound to a node; say why the others wait. */
  async #createInstances(cluster: Cluster, plan: ClusterPlan): Promise<void> {
    for (const instance of plan.instancesToCreate) await this.#createInstance(cluster, instance);
    for (const reason of plan.unscheduled ?? []) await this.#options.events.record(cluster, "Warning", "FailedScheduling", reason);
  }

  async #createInstance(cluster: Cluster, planned: InstanceToCreate): Promise<void> {
    await this.#withNewPort(async (port) => {
      const instance: Instance = {
        apiVersion: "holdfast.io/v1alpha1",
        kind: "Instance",
        metadata: { name: planned.name, ...namespaceOf(cluster), labels: componentLabels(cluster.metadata.name, planned.spec.componentName), ownerReferences: [ownerReference(cluster)] },
        spec: { ...planned.spec, port },
        status: { phase: "Pending" },
      };
      await ignore(AlreadyExistsError, this.#options.store.create(instance));
      const where = planned.spec.nodeName === undefined ? "" : ` on node ${planned.spec.nodeName}`;
      await this.#options.events.record(cluster, "Normal", "InstanceCreated", `created instance ${planned.name}${where} on port ${port}`);
    });
  }

  /**
   * Give an instance whose port another program took a new one. The runtime starts it there; the ha controller
   * repoints the endpoints and the replicas (they follow the primary's recorded port).
   */
  async #moveInstance(cluster: Cluster, move: PortMove): Promise<void> {
    await this.#withNewPort(async (port) => {
      const live = await this.#options.store.get<Instance>({ kind: "Instance", ...namespaceOf(cluster), name: move.name });
      if (live?.spec.port !== move.from) return;
      const moved = await this.#options.store.update<Instance>({ ...live, spec: { ...live.spec, port } });
      const message = `instance ${move.name} moved from port ${move.from} to port ${port}: port ${move.from} is in use by another program`;
      await this.#options.events.record(moved, "Warning", "PortChanged", message);
      await this.#options.events.record(cluster, "Warning", "PortChanged", message);
    });
  }

  /** Run `use` with a port no instance records, one allocation at a time, so two instances never pick the same port. */
  async #withNewPort(use: (port: number) => Promise<void>): Promise<void> {
    const run = this.#portLock.then(async () => {
      const all = await this.#options.store.list<Instance>("Instance");
      await use(await this.#options.allocatePort(new Set(all.items.map((i) => i.spec.port))));
    });
    this.#portLock = run.catch(() => undefined);
    await run;
  }

  async #updateInstance(cluster: Cluster, name: string, spec: Omit<InstanceSpec, "port">): Promise<void> {
    const live = await this.#options.store.get<Instance>({ kind: "Instance", ...namespaceOf(cluster), name });
    if (!live) return;
    // The node, once bound (here, by a rebuild or by the node agent adopting it), is kept: the plan may have read an older
    // version; so are the former nodes, which their agents take off.
    const nodeName = live.spec.nodeName ?? spec.nodeName;
    // The ha controller's request to an arbiter's node agent is its own (ADR 0024), and the OpsRequest controller's of
    // a Custom operation (ADR 0054): the live ones are kept.
    const { formerNodes, arbiterRequest, customAction } = live.spec;
    const { formerNodes: _planned, customAction: _plannedAction, ...rest } = spec;
    const kept = { ...(formerNodes === undefined ? {} : { formerNodes }), ...(arbiterRequest === undefined ? {} : { arbiterRequest }), ...(customAction === undefined ? {} : { customAction }) };
    await this.#options.store.update<Instance>({ ...live, spec: { ...rest, port: live.spec.port, ...(nodeName === undefined ? {} : { nodeName }), ...kept } });
  }

  /** Move instances whose port was taken to a new port, and rebuild a lost node's secondaries on another node. */
  async #relocate(cluster: Cluster, plan: ClusterPlan): Promise<void> {
    for (const move of plan.instancesToMove ?? []) await this.#moveInstance(cluster, move);
    for (const rebuild of plan.instancesToRebuild ?? []) await this.#rebuildInstance(cluster, rebuild);
  }

  /**
   * Bind a secondary of a lost node to another node (rebuild.ts). The status goes first, fresh (what the lost node's
   * agent reported is of a process there), so the new node's agent starts it from empty data, cloned from the primary;
   * the lost node joins spec.formerNodes, whose agent stops any process of it that still runs there when it comes back.
   */
  async #rebuildInstance(cluster: Cluster, rebuild: Rebuild): Promise<void> {
    const live = await this.#options.store.get<Instance>({ kind: "Instance", ...namespaceOf(cluster), name: rebuild.name });
    if (live?.spec.nodeName !== rebuild.from || live.metadata.deletionTimestamp !== undefined) return;
    const message = `rebuilding on node ${rebuild.to}: ${rebuild.why}`;
    const reset = await this.#options.store.updateStatus<Instance>({ ...live, status: { phase: "Pending", ready: false, message } });
    const formerNodes = [...new Set([...(live.spec.formerNodes ?? []), rebuild.from])];
    const moved = await this.#options.store.update<Instance>({ ...reset, spec: { ...reset.spec, nodeName: rebuild.to, formerNodes } });
    await this.#options.events.record(moved, "Warning", "Rebuilding", message);
    await this.#options.events.record(cluster, "Warning", "Rebuilding", `instance ${rebuild.name}: ${message}`);
  }

  async #deleteBackup(cluster: Cluster, name: string): Promise<void> {
    await ignore(NotFoundError, this.#options.store.delete({ kind: "Backup", ...namespaceOf(cluster), name }));
    await this.#options.events.record(cluster, "Normal", "BackupDeleting", `deleting backup ${name}: the cluster is deleted with terminationPolicy WipeOut`);
  }

  async #deleteInstance(cluster: Cluster, name: string): Promise<void> {
    await ignore(NotFoundError, this.#options.store.delete({ kind: "Instance", ...namespaceOf(cluster), name }));
    await this.#options.events.record(cluster, "Normal", "InstanceDeleting", `deleting instance ${name}`);
  }
}

function namespaceOf(object: Resource): { namespace?: string } {
  return object.metadata.namespace === undefined ? {} : { namespace: object.metadata.namespace };
}

/** The ownerReference that makes `owner` the controller of a dependent. */
export function ownerReference(owner: Resource): OwnerReference {
  return { apiVersion: owner.apiVersion, kind: owner.kind, name: owner.metadata.name, uid: owner.metadata.uid ?? "", controller: true, blockOwnerDeletion: true };
}

async function ignore<T>(errorClass: abstract new (...args: never[]) => Error, promise: Promise<T>): Promise<T | undefined> {
  try {
    return await promise;
  } catch (error) {
    if (error instanceof errorClass) return undefined;
    throw error;
  }
}
