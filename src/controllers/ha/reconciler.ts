/**
 * The ha controller: for every replicated component of a cluster it reads what the node agents report of each
 * instance (status.replicationState), keeps one primary (switchover on request, failover when the primary stops
 * answering), names every replica's upstream and durability, reports roles and lag, and records where the cluster's
 * stable endpoints lead (every node's agent serves them, ADR 0025). It asks the node agents for everything done to a
 * process by writing the Instances' spec, and never runs an engine command or opens a socket itself (ADR 0021).
 */
import { now, primaryLeaseName, type Cluster, type Instance, type InstanceReplicationStatus, type Resource } from "../../api/index.ts";
import type { Engine, EngineReplication } from "../../engines/index.ts";
import { LABEL_INSTANCE } from "../cluster/index.ts";
import { splitKey, type ReconcileResult, type Reconciler } from "../runtime/index.ts";
import type { ClusterEndpoints } from "./endpoints.ts";
import { clusterRef, componentMembers, instanceRef, type ComponentHandle, type HaServices } from "./members.ts";
import { writeReplicationStatus, writeRoleLabel } from "./member-status.ts";
import { patchObject, patchStatus } from "./patch.ts";
import { decidePrimary, desiredSpecs, keptReplicationFields, recordOf, lagUpdates, roleLabelUpdates, routesFor, specDiffers, withFence, type ComponentView, type Member, type MemberSpec, type PrimaryDecision, type PrimaryLeaseView } from "./plan.ts";
import { haSettings, type HaSettings } from "./settings.ts";
import { SynchronousStandbys } from "./synchronous-standbys.ts";
import { stepTransition, type Transition } from "./transition.ts";
import { ArbitratedComponents } from "./arbiter-follower.ts";
import { judgedLease, memberOf, withReachability } from "./member-view.ts";

export interface HaReconcilerOptions extends HaServices {
  endpoints: ClusterEndpoints;
  /** The node these controllers run on, beside its node agent (see judgedLease). */
  nodeName?: string;
}

export class HaReconciler implements Reconciler {
  readonly #o: HaReconcilerOptions;
  readonly #reported = new Map<string, string>();
  readonly #synchronous: SynchronousStandbys;
  /** Components whose engine's arbiters (Redis Sentinel) decide who is primary: followed, never failed over here. */
  readonly #arbitrated: ArbitratedComponents;
  /** When this reconciler began (a term of leadership: controllers are made for each). */
  readonly #leadingSinceMs = Date.now();

  constructor(options: HaReconcilerOptions) {
    this.#o = options;
    this.#synchronous = new SynchronousStandbys(options);
    this.#arbitrated = new ArbitratedComponents(options);
  }

  async reconcile(key: string): Promise<ReconcileResult | undefined> {
    const { namespace = "default", name } = splitKey(key);
    const cluster = await this.#o.store.get<Cluster>({ kind: "Cluster", namespace, name });
    // A deleted cluster's endpoints go with it: every node's agent stops serving them.
    if (cluster === undefined || cluster.metadata.deletionTimestamp !== undefined) return undefined;
    const owned = (r: Resource): boolean => (r.metadata.ownerReferences ?? []).some((o) => o.uid === cluster.metadata.uid);
    const instances = (await this.#o.store.list<Instance>("Instance", { namespace, labelSelector: `${LABEL_INSTANCE}=${name}` })).items.filter(owned);
    const handles = this.#replicated(cluster, instances);
    if (handles.length === 0) {
      await this.#o.endpoints.unroute(cluster);
      return undefined;
    }
    const live = await this.#o.endpoints.ensure(cluster, handles.map((h) => h.component));
    const settings = haSettings(live);
    let requeue = settings.probePeriodMs;
    for (const handle of handles) requeue = Math.min(requeue, await this.#component({ ...handle, cluster: live }, instances, settings));
    return { requeueAfterMs: requeue };
  }

  /** The replicated components of the cluster: those whose instances take part in replication on an engine that can. */
  #replicated(cluster: Cluster, instances: readonly Instance[]): ComponentHandle[] {
    return cluster.spec.componentSpecs.flatMap((spec) => {
      const first = componentMembers(instances, spec.name)[0];
      const engine: Engine | undefined = first === undefined ? undefined : this.#o.engines.find(first.spec.engine);
      const replication: EngineReplication | undefined = engine?.replication;
      return engine === undefined || replication === undefined ? [] : [{ cluster, component: spec.name, engine, replication }];
    });
  }

  async #component(handle: ComponentHandle, instances: readonly Instance[], settings: HaSettings): Promise<number> {
    if (handle.replication.arbiter !== undefined) return this.#arbitrated.reconcile(handle, instances, settings);
    const primaryLease = await this.#judgedPrimaryLease(handle, instances, settings);
    const members = withReachability(componentMembers(instances, handle.component).map(memberOf), primaryLease);
    const failoverBlock = (from: string, candidates: readonly string[]): string | undefined => this.#synchronous.failoverBlock(handle, members, from, candidates);
    const view: ComponentView = { cluster: handle.cluster, component: handle.component, members, settings, nowMs: Date.now(), rank: (c) => handle.replication.rankCandidates(c), failoverBlock, checkpoints: handle.replication.checkpoint !== undefined, ...(primaryLease === undefined ? {} : { primaryLease }) };
    const decision = decidePrimary(view);
    const routes = routesFor(view, decision);
    await this.#o.endpoints.route(handle.cluster, handle.component, routes);
    switch (decision.kind) {
      case "initialise":
        await this.#writeRecord(handle, (record) => (record.currentPrimary === undefined ? { currentPrimary: decision.primary, targetPrimary: decision.primary } : undefined));
        return 0;
      case "transition":
        return stepTransition(this.#transition(view, handle.cluster, handle), decision.from, decision.to);
      case "failover": {
        const recorded = await this.#startFailover(handle, decision);
        // Recorded: its first step goes on in this pass.
        return recorded === undefined ? 0 : stepTransition(this.#transition(view, recorded, handle), decision.from, decision.to);
      }
      case "restartInPlace":
        await this.#restartInPlace(handle, members, decision.primary, decision.why);
        break;
      case "wait":
        await this.#reportOnce(handle, "FailoverBlocked", decision.why);
        break;
      case "steady":
        this.#reported.delete(`${handle.cluster.metadata.uid ?? ""}/${handle.component}`);
    }
    await this.#steady(handle, view, decision.primary);
    return nextPass(settings.probePeriodMs, primaryLease);
  }

  /** The primary lease as this term of the controllers may judge it (see judgedLease). */
  async #judgedPrimaryLease(handle: ComponentHandle, instances: readonly Instance[], settings: HaSettings): Promise<PrimaryLeaseView | undefined> {
    const current = recordOf(handle.cluster, handle.component)?.currentPrimary;
    const term = this.#o.nodeName === undefined ? undefined : { nodeName: this.#o.nodeName, leadingForMs: Date.now() - this.#leadingSinceMs };
    return judgedLease(await this.#primaryLease(handle), instances.find((i) => i.metadata.name === current), term, settings.leaseDurationMs);
  }

  /** Who holds the component's primary lease (ADR 0029); undefined when the store cannot say now. */
  async #primaryLease(handle: ComponentHandle): Promise<PrimaryLeaseView | undefined> {
    const uid = handle.cluster.metadata.uid;
    if (uid === undefined) return undefined;
    try {
      const record = await this.#o.store.leases.read(primaryLeaseName(uid, handle.component));
      return { holder: record?.holder, ...(record?.expiresInMs === undefined ? {} : { expiresInMs: record.expiresInMs }) };
    } catch {
      return undefined;
    }
  }

  /** One pass of the role change of `handle`'s component, recorded in `cluster`. */
  #transition(view: ComponentView, cluster: Cluster, handle: ComponentHandle): Transition {
    const { settings, members, failoverBlock, primaryLease } = view;
    return {
      ...handle,
      cluster,
      services: this.#o,
      endpoints: this.#o.endpoints,
      settings,
      members,
      nowMs: Date.now(),
      fenceOnExitAfter: settings.automaticFailover && members.length > 1,
      leadingSinceMs: this.#leadingSinceMs,
      ...(failoverBlock === undefined ? {} : { failoverBlock }),
      ...(primaryLease === undefined ? {} : { primaryLease }),
    };
  }

  /** Specs (the node agents repoint replicas to their upstream), labels and lag, toward the steady state around `primary`. */
  async #steady(handle: ComponentHandle, view: ComponentView, primary: string): Promise<void> {
    for (const desired of desiredSpecs(view, primary)) {
      const member = view.members.find((m) => m.name === desired.name);
      if (member !== undefined && specDiffers(member.instance, desired)) await this.#applySpec(handle, desired);
    }
    await this.#synchronous.apply(handle, view.members, primary);
    for (const { name, role } of roleLabelUpdates(view)) await writeRoleLabel(this.#o.store, instanceRef(handle.cluster, name), role);
    for (const { name, replication } of lagUpdates(view, primary, (instance) => handle.replication.replicaName(instance))) await this.#lag(handle, name, replication);
  }

  async #writeRecord(handle: ComponentHandle, change: (record: NonNullable<NonNullable<Cluster["status"]>["replication"]>[string]) => object | undefined): Promise<Cluster | undefined> {
    return patchStatus<Cluster>(this.#o.store, clusterRef(handle.cluster), (cluster) => {
      const record = cluster.status?.replication?.[handle.component] ?? {};
      const next = change(record);
      if (next === undefined) return undefined;
      return { ...cluster, status: { ...cluster.status, replication: { ...cluster.status?.replication, [handle.component]: { ...record, ...next } } } };
    });
  }

  async #startFailover(handle: ComponentHandle, decision: Extract<PrimaryDecision, { kind: "failover" }>): Promise<Cluster | undefined> {
    const recorded = await this.#writeRecord(handle, (record) => {
      // A switchover asked for meanwhile goes first; this pass will look again.
      if ((record.targetPrimary ?? record.currentPrimary) !== record.currentPrimary) return undefined;
      return { targetPrimary: decision.to, roleChange: { reason: "Failover", step: "Fencing", from: decision.from, to: decision.to, result: "InProgress", message: decision.why, startedAt: now() } };
    });
    if (recorded?.status?.replication?.[handle.component]?.targetPrimary !== decision.to) return undefined;
    await this.#o.events.record(handle.cluster, "Warning", "FailoverStarted", `${decision.why}; promoting ${decision.to}`);
    return recorded;
  }

  /** The primary is known stopped and nobody can take over: lift its fence, or release it from its hold after an exit. */
  async #restartInPlace(handle: ComponentHandle, members: readonly Member[], primary: string, why: string): Promise<void> {
    const heldSince = members.find((m) => m.name === primary)?.instance.status?.replicationState?.heldSince;
    const written = await patchObject<Instance>(this.#o.store, instanceRef(handle.cluster, primary), (current) => {
      const { fenced, ...rest } = current.spec.replication ?? {};
      const release = heldSince !== undefined && rest.restartAfterExit !== heldSince;
      if (fenced !== true && !release) return undefined;
      return { ...current, spec: { ...current.spec, replication: release ? { ...rest, restartAfterExit: heldSince } : rest } };
    });
    if (written === undefined) return;
    await this.#o.events.record(handle.cluster, "Warning", "RestartedInPlace", `${why}; restarting ${primary} in place`);
  }

  async #reportOnce(handle: ComponentHandle, reason: string, message: string): Promise<void> {
    const key = `${handle.cluster.metadata.uid ?? ""}/${handle.component}`;
    if (this.#reported.get(key) === message) return;
    this.#reported.set(key, message);
    await this.#o.events.record(handle.cluster, "Warning", reason, message);
  }

  /** Write a member's role and replication spec; a primary keeps a fence it has (only a decision lifts it). */
  async #applySpec(handle: ComponentHandle, desired: MemberSpec): Promise<void> {
    await patchObject<Instance>(this.#o.store, instanceRef(handle.cluster, desired.name), (current) => {
      if (!specDiffers(current, desired)) return undefined;
      return { ...current, spec: { ...current.spec, role: desired.role, replication: { ...keptReplicationFields(current), ...withFence(desired, current) } } };
    });
  }

  async #lag(handle: ComponentHandle, name: string, replication: InstanceReplicationStatus | undefined): Promise<void> {
    await writeReplicationStatus(this.#o.store, instanceRef(handle.cluster, name), replication);
  }
}

/** A pass woken for a lease's expiry comes a little after it, never in a tight loop. */
const LEASE_WAKE_MIN_MS = 20;

/** Wake up when the primary lease would expire if that comes before the next probe: a lost host fails over sooner. */
export function nextPass(probePeriodMs: number, lease: PrimaryLeaseView | undefined): number {
  const expiresInMs = lease?.holder === undefined ? undefined : lease.expiresInMs;
  return expiresInMs === undefined ? probePeriodMs : Math.min(probePeriodMs, Math.max(LEASE_WAKE_MIN_MS, Math.ceil(expiresInMs) + LEASE_WAKE_MIN_MS));
}
