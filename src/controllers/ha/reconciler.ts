/**
 * The ha controller: for every replicated component of a cluster it probes each instance's role, keeps one
 * primary (switchover on request, failover when the primary stops answering), keeps the replicas following
 * it, reports roles and lag, and routes the cluster's stable endpoints.
 */
import { now, type Cluster, type Instance, type InstanceReplicationStatus, type Resource } from "../../api/index.ts";
import { errorMessage } from "../../errors/index.ts";
import type { Credentials, Engine, EngineReplication } from "../../engines/index.ts";
import { LABEL_INSTANCE, LABEL_ROLE } from "../cluster/index.ts";
import { readAccounts } from "../../agent/index.ts";
import { splitKey, type ReconcileResult, type Reconciler } from "../runtime/index.ts";
import type { ClusterEndpoints } from "./endpoints.ts";
import { clusterRef, componentMembers, contextOf, credentialsOf, instanceRef, type ComponentHandle, type HaServices } from "./members.ts";
import { patchObject, patchStatus } from "./patch.ts";
import { decidePrimary, desiredSpecs, lagUpdates, observedRole, roleLabelUpdates, routesFor, specDiffers, withFence, type ComponentRoutes, type ComponentView, type Member, type MemberSpec, type PrimaryDecision } from "./plan.ts";
import { haSettings, type HaSettings } from "./settings.ts";
import { DepartedReplicas } from "./departed-replicas.ts";
import { SynchronousStandbys } from "./synchronous-standbys.ts";
import { runTransition } from "./transition.ts";
import { ArbitratedComponents } from "./arbiter-follower.ts";

export interface HaReconcilerOptions extends HaServices {
  endpoints: ClusterEndpoints;
}

/** A probe younger than this is reused: watch events can wake a cluster many times a second. */
const PROBE_REUSE_MS = 200;
/** A replica streaming from the wrong server (or none) is repointed at most this often. */
const FOLLOW_EVERY_MS = 10_000;

export class HaReconciler implements Reconciler {
  readonly #o: HaReconcilerOptions;
  readonly #failures = new Map<string, number>();
  readonly #probes = new Map<string, { at: number; observation: Member["observation"] }>();
  readonly #followed = new Map<string, { at: number; primary: string }>();
  readonly #reported = new Map<string, string>();
  readonly #synchronous: SynchronousStandbys;
  readonly #departed: DepartedReplicas;
  /** Components whose engine's arbiters (Redis Sentinel) decide who is primary: followed, never failed over here. */
  readonly #arbitrated: ArbitratedComponents;

  constructor(options: HaReconcilerOptions) {
    this.#o = options;
    this.#synchronous = new SynchronousStandbys(options);
    this.#departed = new DepartedReplicas(options);
    this.#arbitrated = new ArbitratedComponents(options);
  }

  async reconcile(key: string): Promise<ReconcileResult | undefined> {
    const { namespace = "default", name } = splitKey(key);
    const cluster = await this.#o.store.get<Cluster>({ kind: "Cluster", namespace, name });
    if (cluster === undefined || cluster.metadata.deletionTimestamp !== undefined) {
      await this.#o.endpoints.remove(key);
      return undefined;
    }
    const owned = (r: Resource): boolean => (r.metadata.ownerReferences ?? []).some((o) => o.uid === cluster.metadata.uid);
    const instances = (await this.#o.store.list<Instance>("Instance", { namespace, labelSelector: `${LABEL_INSTANCE}=${name}` })).items.filter(owned);
    const handles = this.#replicated(cluster, instances);
    if (handles.length === 0) {
      await this.#o.endpoints.remove(key);
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
    const members = await this.#observe(handle, componentMembers(instances, handle.component));
    const failoverBlock = (from: string, candidates: readonly string[]): string | undefined => this.#synchronous.failoverBlock(handle, members, from, candidates);
    const view: ComponentView = { cluster: handle.cluster, component: handle.component, members, settings, nowMs: Date.now(), rank: (c) => handle.replication.rankCandidates(c), failoverBlock };
    const decision = decidePrimary(view);
    const routes = routesFor(view, decision);
    this.#o.endpoints.route(handle.cluster, handle.component, routes);
    switch (decision.kind) {
      case "initialise":
        await this.#writeRecord(handle, (record) => (record.currentPrimary === undefined ? { currentPrimary: decision.primary, targetPrimary: decision.primary } : undefined));
        return 0;
      case "transition": {
        const transition = { ...handle, services: this.#o, endpoints: this.#o.endpoints, settings, fenceOnExitAfter: settings.automaticFailover && members.length > 1, failoverBlock };
        await runTransition(transition, decision.from, decision.to);
        return 0;
      }
      case "failover":
        await this.#startFailover(handle, decision);
        return 0;
      case "restartInPlace":
        await this.#restartInPlace(handle, decision.primary, decision.why);
        break;
      case "wait":
        await this.#reportOnce(handle, "FailoverBlocked", decision.why);
        break;
      case "steady":
        this.#reported.delete(`${handle.cluster.metadata.uid ?? ""}/${handle.component}`);
    }
    await this.#steady(handle, view, decision.primary, routes);
    return settings.probePeriodMs;
  }

  /** Specs, repointing, labels, lag and endpoint targets, toward the steady state around `primary`. */
  async #steady(handle: ComponentHandle, view: ComponentView, primary: string, routes: ComponentRoutes): Promise<void> {
    for (const desired of desiredSpecs(view, primary)) {
      const member = view.members.find((m) => m.name === desired.name);
      if (member !== undefined && specDiffers(member.instance, desired)) await this.#applySpec(handle, desired);
    }
    await this.#followPrimary(handle, view, primary);
    await this.#synchronous.apply(handle, view.members, primary);
    const leader = view.members.find((m) => m.name === primary);
    if (leader !== undefined) await this.#departed.forget(handle, view.members, leader);
    for (const { name, role } of roleLabelUpdates(view)) await this.#label(handle, name, role);
    for (const { name, replication } of lagUpdates(view, primary, (instance) => handle.replication.replicaName(instance))) await this.#lag(handle, name, replication);
    const names = (members: readonly Member[]): string[] => members.map((m) => m.name);
    const base = `${handle.cluster.metadata.name}-${handle.component}`;
    await this.#o.endpoints.recordTargets(handle.cluster, new Map([[base, names(routes.readWrite.targets)], [`${base}-ro`, names(routes.readOnly.targets)]]));
  }

  /** Probe every running, unfenced member (reusing a very recent probe) and count failures in a row. */
  async #observe(handle: ComponentHandle, instances: readonly Instance[]): Promise<Member[]> {
    const admin = await this.#admin(handle, instances);
    return Promise.all(instances.map((instance) => this.#probe(handle, instance, admin)));
  }

  async #probe(handle: ComponentHandle, instance: Instance, admin: Credentials | undefined): Promise<Member> {
    const name = instance.metadata.name;
    const key = `${instance.metadata.namespace ?? "default"}/${name}`;
    const probeable = instance.spec.running && instance.spec.replication?.fenced !== true && instance.status?.pid !== undefined;
    if (admin === undefined || !probeable) {
      this.#failures.delete(key);
      return { name, instance, observation: undefined, failures: 0 };
    }
    const cached = this.#probes.get(key);
    if (cached !== undefined && Date.now() - cached.at < PROBE_REUSE_MS) return { name, instance, observation: cached.observation, failures: this.#failures.get(key) ?? 0 };
    const observation = await handle.replication.probe(instance.spec.port, admin);
    this.#probes.set(key, { at: Date.now(), observation });
    const failures = observation === undefined ? (this.#failures.get(key) ?? 0) + 1 : 0;
    this.#failures.set(key, failures);
    return { name, instance, observation, failures };
  }

  async #admin(handle: ComponentHandle, instances: readonly Instance[]): Promise<Credentials | undefined> {
    const first = instances[0];
    if (first === undefined) return undefined;
    return (await readAccounts(this.#o.store, first, handle.engine).catch(() => []))[0];
  }

  async #writeRecord(handle: ComponentHandle, change: (record: NonNullable<NonNullable<Cluster["status"]>["replication"]>[string]) => object | undefined): Promise<void> {
    await patchStatus<Cluster>(this.#o.store, clusterRef(handle.cluster), (cluster) => {
      const record = cluster.status?.replication?.[handle.component] ?? {};
      const next = change(record);
      if (next === undefined) return undefined;
      return { ...cluster, status: { ...cluster.status, replication: { ...cluster.status?.replication, [handle.component]: { ...record, ...next } } } };
    });
  }

  async #startFailover(handle: ComponentHandle, decision: Extract<PrimaryDecision, { kind: "failover" }>): Promise<void> {
    await this.#writeRecord(handle, (record) => {
      // A switchover asked for meanwhile goes first; this pass will look again.
      if ((record.targetPrimary ?? record.currentPrimary) !== record.currentPrimary) return undefined;
      return { targetPrimary: decision.to, roleChange: { reason: "Failover", from: decision.from, to: decision.to, result: "InProgress", message: decision.why, startedAt: now() } };
    });
    await this.#o.events.record(handle.cluster, "Warning", "FailoverStarted", `${decision.why}; promoting ${decision.to}`);
  }

  async #restartInPlace(handle: ComponentHandle, primary: string, why: string): Promise<void> {
    await patchObject<Instance>(this.#o.store, instanceRef(handle.cluster, primary), (current) => {
      if (current.spec.replication?.fenced !== true) return undefined;
      const { fenced: _fenced, ...rest } = current.spec.replication;
      return { ...current, spec: { ...current.spec, replication: rest } };
    });
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
      return { ...current, spec: { ...current.spec, role: desired.role, replication: withFence(desired, current) } };
    });
  }

  /** Repoint running replicas that do not stream from the primary (after a failover or switchover). */
  async #followPrimary(handle: ComponentHandle, view: ComponentView, primary: string): Promise<void> {
    const leader = view.members.find((m) => m.name === primary);
    if (leader === undefined || observedRole(leader) !== "primary") return;
    for (const member of view.members) {
      if (member.name === primary || !this.#needsFollow(member, leader, view.nowMs)) continue;
      try {
        const context = await contextOf(this.#o, handle.engine, member.instance);
        await handle.replication.follow(context, { host: "127.0.0.1", port: leader.instance.spec.port }, await credentialsOf(this.#o, handle, member.instance), await this.#o.users.hostOf(member.instance));
        await this.#o.events.record(handle.cluster, "Normal", "Repointed", `${member.name} now streams from ${primary}`);
      } catch (error) {
        await this.#o.events.record(handle.cluster, "Warning", "RepointFailed", `${member.name} could not be pointed at ${primary}: ${errorMessage(error)}`);
      }
    }
  }

  /**
   * A running replica that does not stream from the leader is repointed, throttled per primary: one that cannot
   * stream is not reloaded every pass, a new primary is followed at once, and a replica just started gets time to connect.
   */
  #needsFollow(member: Member, leader: Member, nowMs: number): boolean {
    if (member.observation?.role !== "secondary" || member.observation.streamingFrom === leader.instance.spec.port) return false;
    const key = `${member.instance.metadata.namespace ?? "default"}/${member.name}`;
    const last = this.#followed.get(key);
    const startedAt = Date.parse(member.instance.status?.startedAt ?? "") || 0;
    if ((last?.primary === leader.name && nowMs - last.at < FOLLOW_EVERY_MS) || nowMs - startedAt < FOLLOW_EVERY_MS / 2) return false;
    this.#followed.set(key, { at: nowMs, primary: leader.name });
    return true;
  }

  async #label(handle: ComponentHandle, name: string, role: string | undefined): Promise<void> {
    await patchObject<Instance>(this.#o.store, instanceRef(handle.cluster, name), (current) => {
      if (current.metadata.labels?.[LABEL_ROLE] === role) return undefined;
      const others = Object.entries(current.metadata.labels ?? {}).filter(([key]) => key !== LABEL_ROLE);
      const labels = Object.fromEntries(role === undefined ? others : [...others, [LABEL_ROLE, role]]);
      return { ...current, metadata: { ...current.metadata, labels } };
    });
  }

  async #lag(handle: ComponentHandle, name: string, replication: InstanceReplicationStatus | undefined): Promise<void> {
    await patchStatus<Instance>(this.#o.store, instanceRef(handle.cluster, name), (current) => {
      const { replication: _previous, ...rest } = current.status ?? {};
      return { ...current, status: replication === undefined ? rest : { ...rest, replication } };
    });
  }
}
