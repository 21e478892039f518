/**
 * The cluster controller's plan: a pure function from the Cluster and what exists (instances, secrets)
 * to what should change. No I/O here; `act` carries the plan out.
 */
import type { Backup, Cluster, ClusterStatus, Condition, Instance, InstanceClientTls, InstanceSpec } from "../../api/index.ts";
import type { EngineParameters } from "../../engines/index.ts";
import { accountSecretName, clusterOsUser, instanceName } from "../../api/index.ts";
import { setCondition } from "../runtime/index.ts";
import { componentLabels, restartAnnotation } from "./labels.ts";
import { placeInstance, type NodeView, type PlacedInstance, type PlacementPolicy } from "./placement.ts";
import { planRebuilds, spreadCondition, type Rebuild } from "./rebuild.ts";
import { portMoves, type PortMove } from "./port-moves.ts";
import { rebuildRequestOf } from "./rebuild-request.ts";
import { restoreFields } from "./restore.ts";
import { isProtectedPrimary, roleFields } from "./roles.ts";
import { planRollout, rolloutSwitchoverRecord, type RolloutSwitchover } from "./rollout.ts";
import { specDiffers, withoutPort } from "./spec-compare.ts";
import { clusterStatus } from "./status.ts";

/** A component with everything the plan needs already looked up (engine, installed version). */
export interface ResolvedComponent {
  name: string;
  engine: string;
  version: string;
  replicas: number;
  stopped: boolean;
  parameters: Record<string, string>;
  /** The names among `parameters` applied to running servers without a restart. */
  liveParameters?: readonly string[];
  /** The engine's parameter schema, for the order of a rolling change (rollingOrder). */
  parameterSchema?: EngineParameters;
  /** System account names of the engine; the first one is the administrator. */
  accounts: readonly string[];
  /** Features of the spec the runtime cannot honour, for the status condition. */
  limitations: readonly string[];
  /** Does the component run a primary with replicas (its topology says so and the engine can)? */
  replicated?: boolean;
  /** Where its instances may go (KubeBlocks' schedulingPolicy: the component's fields over the cluster's). */
  policy?: PlacementPolicy | undefined;
  /** `disableExporter: true`: no metrics exporter beside its instances. */
  disableExporter?: boolean;
  /** `tls: true`: clients only in TLS, certificates of this issuer. */
  clientTls?: InstanceClientTls;
  /** Bytes each instance may keep on disk (the `data` volume's storage, ADR 0048). */
  storageQuota?: number;
}

/** An instance to create; the port is allocated when acting. */
export interface InstanceToCreate {
  name: string;
  spec: Omit<InstanceSpec, "port">;
}

export interface ClusterPlan {
  addFinalizer: boolean;
  secretsToCreate: { name: string; component: string; account: string }[];
  instancesToCreate: InstanceToCreate[];
  instancesToUpdate: { name: string; spec: Omit<InstanceSpec, "port"> }[];
  instancesToDelete: string[];
  /** Instances whose port another program took: each gets a new port. */
  instancesToMove?: PortMove[];
  /** Backups of a cluster deleted with terminationPolicy WipeOut. */
  backupsToDelete?: string[];
  /** Instances not created (or bound) yet because no node fits, each with why. */
  unscheduled?: string[];
  /** Secondaries whose node is lost, each to rebuild on another node (ADR 0027). */
  instancesToRebuild?: Rebuild[];
  /** Switchovers a rolling restart asks for (recorded in `status.replication`) before it restarts a primary. */
  rolloutSwitchovers?: RolloutSwitchover[];
  removeFinalizer: boolean;
  status: ClusterStatus;
}

export interface PlanInput {
  cluster: Cluster;
  components: readonly ResolvedComponent[];
  instances: readonly Instance[];
  existingSecrets: ReadonlySet<string>;
  /** Problem found while resolving (e.g. the version is no longer installed): the cluster fails with it. */
  resolveError?: string;
  /** The cluster's Backups, looked up only when it is being deleted with WipeOut. */
  backups?: readonly Backup[];
  /** The nodes new instances can be bound to; absent, instances are left unbound. */
  nodes?: NodeView;
  /** The time of this pass (lost nodes are judged by it); default: no node counts as lost. */
  nowMs?: number;
}

/** Work out what should change. */
export function planCluster(input: PlanInput, finalizer: string): ClusterPlan {
  const { cluster } = input;
  const hasFinalizer = (cluster.metadata.finalizers ?? []).includes(finalizer);
  if (cluster.metadata.deletionTimestamp !== undefined) return planDeletion(input, hasFinalizer);
  const byName = new Map(input.instances.map((i) => [i.metadata.name, i]));
  const { desired, unscheduled, placed } = bindToNodes(input.resolveError === undefined ? desiredInstances(cluster, input.components, input.instances) : [], input);
  const rebuilds = input.resolveError === undefined ? planRebuilds(input, placed) : { rebuilds: [], waiting: [] };
  const wanted = new Set(desired.map((d) => d.name));
  const changed = desired.filter((d) => {
    const live = byName.get(d.name);
    return live !== undefined && live.metadata.deletionTimestamp === undefined && specDiffers(live.spec, d.spec);
  });
  const rollout = planRollout(cluster, input.components, input.instances, changed);
  const status = withSwitchovers(withSpread(clusterStatus(input, rollout.held), input, desired, rebuilds.rebuilds), rollout.switchovers, input.nowMs);
  const waiting = [...unscheduled.values()];
  return {
    addFinalizer: !hasFinalizer,
    secretsToCreate: input.resolveError === undefined ? missingSecrets(cluster, input.components, input.existingSecrets) : [],
    instancesToCreate: desired.filter((d) => !byName.has(d.name) && !unscheduled.has(d.name)),
    instancesToUpdate: rollout.updates,
    ...(rollout.switchovers.length === 0 ? {} : { rolloutSwitchovers: rollout.switchovers }),
    instancesToDelete:
      input.resolveError === undefined
        ? input.instances.filter((i) => !wanted.has(i.metadata.name) && i.metadata.deletionTimestamp === undefined && !isProtectedPrimary(cluster, input.components, i)).map((i) => i.metadata.name)
        : [],
    instancesToMove: portMoves(input.instances),
    ...(waiting.length === 0 ? {} : { unscheduled: waiting }),
    ...(rebuilds.rebuilds.length === 0 ? {} : { instancesToRebuild: rebuilds.rebuilds }),
    removeFinalizer: false,
    status: withMessage(status, waiting, rebuilds.waiting),
  };
}

/** The status with what instances wait for in its message: new ones unless the cluster runs, those of a lost node always. */
function withMessage(status: ClusterStatus, unscheduled: readonly string[], stranded: readonly string[]): ClusterStatus {
  const waiting = [...(status.phase === "Running" ? [] : unscheduled), ...stranded];
  return waiting.length === 0 ? status : { ...status, message: `waiting for a node: ${waiting.join("; ")}` };
}

/** The status with the switchovers of a rolling restart recorded, for the ha controller to carry out. */
function withSwitchovers(status: ClusterStatus, switchovers: readonly RolloutSwitchover[], nowMs: number | undefined): ClusterStatus {
  if (switchovers.length === 0) return status;
  const at = new Date(nowMs ?? Date.now()).toISOString();
  const replication = { ...status.replication };
  for (const switchover of switchovers) replication[switchover.component] = rolloutSwitchoverRecord(replication[switchover.component], switchover, at);
  return { ...status, replication };
}

/** The status with the InstancesSpread condition, judged on where the instances are (or are about to be) bound. */
function withSpread(status: ClusterStatus, input: PlanInput, desired: readonly InstanceToCreate[], rebuilds: readonly Rebuild[]): ClusterStatus {
  if (input.nodes === undefined) return status;
  const moved = new Map(rebuilds.map((r) => [r.name, r.to]));
  const nodeOf = new Map(desired.flatMap((d) => (d.spec.nodeName === undefined ? [] : [[d.name, moved.get(d.name) ?? d.spec.nodeName] as const])));
  const condition = spreadCondition(input.components, desired, nodeOf, input.cluster.metadata.generation ?? 0);
  return { ...status, conditions: setCondition(status.conditions, condition) };
}

/** Does a live instance still need a node: never bound, and never started anywhere (no data directory to follow)? */
function needsNode(live: Instance | undefined): boolean {
  return live === undefined || (live.spec.nodeName === undefined && live.status?.dataDirectory === undefined && live.metadata.deletionTimestamp === undefined);
}

/**
 * Bind each new instance to a node (placement.ts), counting those bound in this pass; an instance made before nodes
 * existed that never started is bound the same way (one that did start is bound by the node agent whose home holds it).
 */
function bindToNodes(desired: InstanceToCreate[], input: PlanInput): { desired: InstanceToCreate[]; unscheduled: Map<string, string>; placed: PlacedInstance[] } {
  const unscheduled = new Map<string, string>();
  const view = input.nodes;
  if (view === undefined) return { desired, unscheduled, placed: [] };
  const placed = [...view.placed];
  const byName = new Map(input.instances.map((i) => [i.metadata.name, i]));
  const policies = new Map(input.components.map((c) => [c.name, c.policy]));
  const namespace = input.cluster.metadata.namespace ?? "default";
  const bound = desired.map((d) => {
    if (d.spec.nodeName !== undefined || !needsNode(byName.get(d.name))) return d;
    const labels = componentLabels(d.spec.clusterName, d.spec.componentName);
    const placement = placeInstance({ engine: d.spec.engine, version: d.spec.version, namespace, labels, policy: policies.get(d.spec.componentName) }, { nodes: view.nodes, placed });
    if ("reason" in placement) {
      unscheduled.set(d.name, `${d.name}: ${placement.reason}`);
      return d;
    }
    placed.push({ name: d.name, namespace, nodeName: placement.nodeName, labels });
    return { ...d, spec: { ...d.spec, nodeName: placement.nodeName } };
  });
  return { desired: bound, unscheduled, placed };
}

function planDeletion(input: PlanInput, hasFinalizer: boolean): ClusterPlan {
  if (input.cluster.spec.terminationPolicy === "DoNotTerminate") {
    // The API refuses such deletions; one that arrives another way (a namespace being deleted) waits here.
    const status = clusterStatus(input);
    const message = "deletion is blocked by terminationPolicy DoNotTerminate; set spec.terminationPolicy to Delete or WipeOut to let it proceed";
    return { addFinalizer: false, secretsToCreate: [], instancesToCreate: [], instancesToUpdate: [], instancesToDelete: [], removeFinalizer: false, status: { ...status, message } };
  }
  const remaining = input.instances.filter((i) => i.metadata.deletionTimestamp === undefined);
  // Delete and WipeOut both remove the data; WipeOut also deletes the backups (KubeBlocks), Delete keeps them.
  const deleteData = true;
  const backups = input.cluster.spec.terminationPolicy === "WipeOut" ? (input.backups ?? []) : [];
  const backupsToDelete = backups.filter((b) => b.metadata.deletionTimestamp === undefined).map((b) => b.metadata.name);
  return {
    addFinalizer: false,
    secretsToCreate: [],
    instancesToCreate: [],
    // Make sure the data goes with the instance when the policy says so, before deleting it.
    instancesToUpdate: remaining.filter((i) => i.spec.deleteData !== deleteData).map((i) => ({ name: i.metadata.name, spec: withoutPort({ ...i.spec, deleteData }) })),
    instancesToDelete: remaining.filter((i) => i.spec.deleteData === deleteData).map((i) => i.metadata.name),
    ...(backupsToDelete.length > 0 ? { backupsToDelete } : {}),
    removeFinalizer: hasFinalizer && input.instances.length === 0 && backups.length === 0,
    status: clusterStatus(input),
  };
}

/** The instances every component should have, by name. */
export function desiredInstances(cluster: Cluster, components: readonly ResolvedComponent[], live: readonly Instance[] = []): InstanceToCreate[] {
  const result: InstanceToCreate[] = [];
  for (const component of components) {
    for (let ordinal = 0; ordinal < component.replicas; ordinal++) {
      result.push({ name: instanceName(cluster.metadata.name, component.name, ordinal), spec: instanceSpec(cluster, component, ordinal, live) });
    }
  }
  return result;
}

function instanceSpec(cluster: Cluster, component: ResolvedComponent, ordinal: number, live: readonly Instance[]): Omit<InstanceSpec, "port"> {
  const restartRequest = cluster.metadata.annotations?.[restartAnnotation(component.name)];
  const rebuild = rebuildRequestOf(cluster, instanceName(cluster.metadata.name, component.name, ordinal));
  const liveInstance = live.find((i) => i.metadata.name === instanceName(cluster.metadata.name, component.name, ordinal));
  const osUser = osUserFor(cluster, liveInstance);
  // Bound once, moved only by a rebuild (rebuild.ts): the node holds the instance's data.
  const nodeName = liveInstance?.spec.nodeName;
  const formerNodes = liveInstance?.spec.formerNodes;
  return {
    engine: component.engine,
    version: component.version,
    clusterName: cluster.metadata.name,
    componentName: component.name,
    ordinal,
    running: !component.stopped,
    ...roleFields(cluster, component, ordinal, live),
    parameters: component.parameters,
    ...(component.liveParameters === undefined || component.liveParameters.length === 0 ? {} : { liveParameters: [...component.liveParameters] }),
    ...(component.disableExporter === true ? { disableExporter: true } : {}),
    ...(component.clientTls === undefined ? {} : { clientTls: component.clientTls }),
    ...(component.storageQuota === undefined ? {} : { storageQuota: component.storageQuota }),
    deleteData: cluster.spec.terminationPolicy !== "DoNotTerminate",
    ...(restartRequest === undefined ? {} : { restartRequest }),
    ...(rebuild === undefined ? {} : { rebuild }),
    ...restoreFields(cluster, component.name, ordinal),
    ...(osUser === undefined ? {} : { osUser }),
    ...(nodeName === undefined ? {} : { nodeName }),
    ...(formerNodes === undefined ? {} : { formerNodes }),
    ...keptRequests(liveInstance),
  };
}

/**
 * The requests other controllers write into an instance's spec, kept as found: the ha controller's to an arbiter's
 * node agent (ADR 0024), the OpsRequest controller's of a Custom operation (ADR 0054).
 */
function keptRequests(live: Instance | undefined): Pick<InstanceSpec, "arbiterRequest" | "customAction"> {
  const { arbiterRequest, customAction } = live?.spec ?? {};
  return { ...(arbiterRequest === undefined ? {} : { arbiterRequest }), ...(customAction === undefined ? {} : { customAction }) };
}

/**
 * The OS user of a new instance is its cluster's own; a live instance keeps the user its files belong to (one made
 * by an older version has none and stays on the shared user: see docs/operations.md).
 */
function osUserFor(cluster: Cluster, live: Instance | undefined): string | undefined {
  return live === undefined ? osUserOfCluster(cluster) : live.spec.osUser;
}

/** The OS user a cluster's new instances run as (decided here only, from its uid). */
export function osUserOfCluster(cluster: Cluster): string {
  return clusterOsUser(cluster.metadata.uid ?? `${cluster.metadata.namespace ?? "default"}/${cluster.metadata.name}`);
}

function missingSecrets(cluster: Cluster, components: readonly ResolvedComponent[], existing: ReadonlySet<string>): ClusterPlan["secretsToCreate"] {
  return components.flatMap((component) =>
    component.accounts
      .map((account) => ({ name: accountSecretName(cluster.metadata.name, component.name, account), component: component.name, account }))
      .filter((secret) => !existing.has(secret.name)),
  );
}

export type { Condition };
