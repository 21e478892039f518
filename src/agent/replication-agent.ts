/**
 * The node agent's part in replication (ADR 0021): the only code that runs replication commands on an instance.
 * It carries out what the Instance's spec asks (promote a running replica whose spec.role became `primary`, point a
 * replica at its upstream, apply the durability) and probes the instance at its cluster's probe period, reporting
 * what it saw in status.replicationState for the ha controller to decide on.
 */
import { instanceHost, type Instance, type InstanceReplicationState, type ReplicationDurabilitySpec } from "../api/index.ts";
import { errorMessage } from "../errors/index.ts";
import type { InstanceTrust } from "./instance-tls.ts";
import type { Credentials, ReplicationDurability, ReplicationObservation } from "../engines/index.ts";
import type { Store } from "../store/index.ts";
import { LABEL_INSTANCE } from "../controllers/cluster/index.ts";
import { readAccounts } from "./accounts.ts";
import { clusterSettingsOf } from "./cluster-settings.ts";
import { DepartedSlots } from "./departed-slots.ts";
import { worthAskingIfDiverged } from "./divergence.ts";
import type { ReplicatedInstance, ReplicationReporter } from "./replicated-instance.ts";
import { readReplicationCredentials } from "./replication.ts";
import { observationOf, observedSince, probedState, stateWorthWriting } from "./replication-state.ts";

/** While a role change waits for a fresh position (spec.replication.observeAfter) or a new upstream, probe this often. */
const CLOSE_PROBE_MS = 100;
/** A replica streaming from the wrong server (or none) is repointed at most this often per upstream. */
const FOLLOW_EVERY_MS = 10_000;

export class ReplicationAgent {
  readonly #store: Store;
  /** Per instance (uid): when it was last probed. */
  readonly #probedAt = new Map<string, number>();
  /** Per instance: the last repoint, so one that cannot stream is not reloaded every pass, and how many at that upstream were carried out. */
  readonly #followed = new Map<string, { at: number; upstream: string; done: number }>();
  /** Instances that diverged from their upstream (divergence.ts): restarted with a rewind, then removed. */
  readonly #rewinds = new Set<string>();
  /**
   * Per instance: the upstream it was last seen streaming from, or last pointed at. A spec that names another one is
   * acted on at once (a failover's other replicas repoint as soon as the new primary is named), not at the next probe.
   */
  readonly #upstreamSeen = new Map<string, string>();
  /** Per instance: the upstream its process was configured with when it started. */
  readonly #startedWith = new Map<string, string>();
  /** Per instance: the process and durability last applied. */
  readonly #durability = new Map<string, string>();
  readonly #slots: DepartedSlots;
  /** Takes the primary lease before a promotion (primary-lease.ts); held: false while another instance holds it. */
  readonly #holdLease: (instance: Instance) => Promise<{ held: boolean; holder?: string | undefined }>;

  /** What probes over TLS check the instances' certificates against (the cluster CA). */
  readonly #trust: InstanceTrust | undefined;

  constructor(store: Store, holdLease: (instance: Instance) => Promise<{ held: boolean; holder?: string | undefined }> = () => Promise.resolve({ held: true }), trust?: InstanceTrust) {
    this.#store = store;
    this.#holdLease = holdLease;
    this.#trust = trust;
    this.#slots = new DepartedSlots(store);
  }

  /** One pass over a running replicated instance (`unanswered`: it just failed its readiness probe); when to look again (ms). */
  async tend(r: ReplicatedInstance, unanswered: boolean, reporter: ReplicationReporter): Promise<number> {
    const interval = this.#closely(r.instance) ? CLOSE_PROBE_MS : await this.#probePeriod(r.instance);
    const elapsed = Date.now() - (this.#probedAt.get(keyOf(r.instance)) ?? 0);
    if (elapsed < interval && !probeAsked(r.instance) && !this.#repointDue(r.instance)) return interval - elapsed;
    const [admin] = await readAccounts(this.#store, r.instance, r.engine);
    if (admin === undefined) return interval;
    const current = r.instance.status?.replicationState;
    const { observation, promotedMs } = unanswered ? { observation: undefined, promotedMs: undefined } : await this.#probeOrPromote(r, admin);
    this.#probedAt.set(keyOf(r.instance), Date.now());
    await this.#report(r, current, observation, reporter);
    if (promotedMs !== undefined) await reporter.record("Normal", "Promoted", `promoted to primary in ${Math.round(promotedMs)} ms`);
    if (observation !== undefined) await this.#keepUp(r, observation, admin, reporter);
    return interval;
  }

  /**
   * A switchover about to stop this primary asks for a checkpoint first (spec.replication.checkpointFor): written
   * while it still serves, and reported, so the ha controller stops it only then and the stop is short.
   */
  async #checkpointIfAsked(r: ReplicatedInstance, admin: Credentials, reporter: ReplicationReporter): Promise<void> {
    const asked = r.instance.spec.replication?.checkpointFor;
    const state = r.instance.status?.replicationState;
    if (asked === undefined || state?.checkpointed === asked) return;
    const started = performance.now();
    const outcome = await r.replication.checkpoint?.(r.context.port, admin).then(
      () => ({ type: "Normal" as const, reason: "Checkpointed", message: `checkpoint before the switchover in ${Math.round(performance.now() - started)} ms` }),
      // The stop that follows writes the checkpoint itself: slower, never unsafe.
      (error: unknown) => ({ type: "Warning" as const, reason: "CheckpointFailed", message: `the checkpoint before the switchover failed: ${errorMessage(error)}` }),
    );
    r.instance = await reporter.setStatus({ replicationState: { ...r.instance.status?.replicationState, checkpointed: asked } });
    if (outcome !== undefined) await reporter.record(outcome.type, outcome.reason, `${r.instance.metadata.name}: ${outcome.message}`);
  }

  /** What the spec asks of a server that answers: stream from its upstream, its durability; a primary forgets departed replicas and checkpoints when asked. */
  async #keepUp(r: ReplicatedInstance, observation: ReplicationObservation, admin: Credentials, reporter: ReplicationReporter): Promise<void> {
    await this.#follow(r, observation, admin, reporter);
    await this.#applyDurability(r, admin, reporter);
    if (observation.role !== "primary") return;
    await this.#slots.forget(r, admin, reporter);
    await this.#checkpointIfAsked(r, admin, reporter);
  }

  /** Forget what was applied to a process of `instance` (it stopped or is gone). */
  forget(instance: Instance): void {
    this.#probedAt.delete(keyOf(instance));
    this.#durability.delete(keyOf(instance));
    this.#upstreamSeen.delete(keyOf(instance));
    this.#startedWith.delete(keyOf(instance));
  }

  /** The process of `instance` is being started as a replica of `upstream` (configured before its start). */
  pointedAt(instance: Instance, upstream: string): void {
    this.#startedWith.set(keyOf(instance), upstream);
    this.#upstreamSeen.set(keyOf(instance), upstream);
  }

  /**
   * Probe closely while a role change waits for a position, or while the spec names an upstream this replica does
   * not follow yet (it follows once that one runs as primary: a new primary is followed within CLOSE_PROBE_MS).
   */
  #closely(instance: Instance): boolean {
    return instance.spec.replication?.observeAfter !== undefined || this.#repointDue(instance);
  }

  /** The spec names an upstream this replica was not yet seen streaming from (nor pointed at). */
  #repointDue(instance: Instance): boolean {
    const upstream = instance.spec.replication?.upstream;
    return upstream !== undefined && instance.spec.role !== "primary" && this.#upstreamSeen.get(keyOf(instance)) !== upstream;
  }

  async #probePeriod(instance: Instance): Promise<number> {
    return (await clusterSettingsOf(this.#store, instance)).probePeriodMs;
  }

  async #probe(r: ReplicatedInstance, admin: Credentials): Promise<ReplicationObservation | undefined> {
    if (r.replication.arbiter === undefined) return r.replication.probe(r.context.port, admin, undefined, this.#trust?.(r.instance));
    // Engines that know replicas only by address (Redis) name them through the component's instances.
    const ports = await this.#componentPorts(r.instance);
    return r.replication.probe(r.context.port, admin, (port) => ports.get(port), this.#trust?.(r.instance));
  }

  async #componentPorts(instance: Instance): Promise<Map<number, string>> {
    const listed = await this.#store.list<Instance>("Instance", { namespace: instance.metadata.namespace ?? "default", labelSelector: `${LABEL_INSTANCE}=${instance.spec.clusterName}` });
    const members = listed.items.filter((i) => i.spec.componentName === instance.spec.componentName);
    return new Map(members.map((i) => [i.spec.port, i.metadata.name]));
  }

  /**
   * Probe; a replica whose spec names it primary (the ha controller confirmed every other possible primary stopped
   * first) and that last answered as a replica is promoted (promoting one that already is primary does nothing) and
   * reported primary at once, its next probe filling in the rest.
   */
  async #probeOrPromote(r: ReplicatedInstance, admin: Credentials): Promise<{ observation: ReplicationObservation | undefined; promotedMs: number | undefined }> {
    const last = observationOf(r.instance.status?.replicationState);
    // Under arbiters (Redis Sentinel) they promote, never the agent: the spec only follows what they did.
    if (last?.role !== "secondary" || !promotionAsked(r.instance) || r.replication.arbiter !== undefined) return { observation: await this.#probe(r, admin), promotedMs: undefined };
    // Promoted only under the component's primary lease: the former primary's agent released it, or it expired.
    if (!(await this.#holdLease(r.instance)).held) return { observation: await this.#probe(r, admin), promotedMs: undefined };
    const started = performance.now();
    await r.replication.promote(r.context, admin, r.host);
    return { observation: { ...last, role: "primary", streamingFrom: undefined, replicas: [] }, promotedMs: performance.now() - started };
  }

  async #report(r: ReplicatedInstance, current: InstanceReplicationState | undefined, observation: ReplicationObservation | undefined, reporter: ReplicationReporter): Promise<void> {
    const next = probedState(current, observation, Date.now());
    if (!stateWorthWriting(current, next, Date.now(), r.instance.spec.replication?.observeAfter)) return;
    r.instance = await reporter.setStatus({ replicationState: next, ...(observation === undefined ? {} : { role: observation.role }) });
  }

  /** Point a running replica that does not stream from its upstream at it, once the upstream runs as primary. */
  async #follow(r: ReplicatedInstance, observation: ReplicationObservation, admin: Credentials, reporter: ReplicationReporter): Promise<void> {
    const upstream = await this.#upstreamToFollow(r, observation);
    if (upstream === undefined || !this.#mayFollow(r.instance, upstream.metadata.name)) return;
    const earlierRepoints = this.#followed.get(keyOf(r.instance))?.done ?? 0;
    if (worthAskingIfDiverged(earlierRepoints, r.replication.diverged !== undefined) && (await r.replication.diverged?.(r.context.port, admin, this.#trust?.(r.instance))) === true) {
      this.#rewinds.add(keyOf(r.instance));
      await reporter.record("Warning", "Diverged", `${r.instance.metadata.name} holds changes ${upstream.metadata.name} never had (it was ahead of it when it was promoted) and cannot stream from it: restarted to be rewound onto it`);
      return;
    }
    await this.#repoint(r, upstream, reporter);
  }

  /** Has `instance` diverged from its upstream, so that its next start must rewind it first? */
  rewindWanted(instance: Instance): boolean {
    return this.#rewinds.has(keyOf(instance));
  }

  /** `instance` was rewound (or cloned) onto its upstream as it started. */
  rewound(instance: Instance): void {
    this.#rewinds.delete(keyOf(instance));
  }

  /** The spec's upstream when this replica does not stream from it yet and it runs as primary; notes one it streams from. */
  async #upstreamToFollow(r: ReplicatedInstance, observation: ReplicationObservation): Promise<Instance | undefined> {
    const name = r.instance.spec.replication?.upstream;
    if (r.replication.arbiter !== undefined || r.instance.spec.role === "primary" || name === undefined || observation.role !== "secondary") return undefined;
    const upstream = await this.#store.get<Instance>({ kind: "Instance", namespace: r.instance.metadata.namespace ?? "default", name });
    if (upstream === undefined) return undefined;
    if (observation.streamingFrom === upstream.spec.port) {
      this.#upstreamSeen.set(keyOf(r.instance), name);
      this.#followed.delete(keyOf(r.instance));
      return undefined;
    }
    return runsAsPrimary(upstream) ? upstream : undefined;
  }

  async #repoint(r: ReplicatedInstance, upstream: Instance, reporter: ReplicationReporter): Promise<void> {
    const name = upstream.metadata.name;
    try {
      const started = performance.now();
      const accounts = await readAccounts(this.#store, r.instance, r.engine);
      const credentials = await readReplicationCredentials(this.#store, r.instance, r.replication, accounts);
      await r.replication.follow(r.context, { host: instanceHost(upstream), port: upstream.spec.port }, credentials, r.host);
      this.#upstreamSeen.set(keyOf(r.instance), name);
      // Only a repoint that was carried out counts towards asking whether the replica diverged (divergence.ts).
      const followed = this.#followed.get(keyOf(r.instance));
      if (followed?.upstream === name) followed.done += 1;
      await reporter.record("Normal", "Repointed", `${r.instance.metadata.name} pointed at ${name} (in ${Math.round(performance.now() - started)} ms)`);
    } catch (error) {
      await reporter.record("Warning", "RepointFailed", `${r.instance.metadata.name} could not be pointed at ${name}: ${errorMessage(error)}`);
    }
  }

  /**
   * Throttled per upstream: a new upstream is followed at once; a replica just started, pointed at this very upstream
   * (or at one this agent does not know, having started since), gets time to connect first.
   */
  #mayFollow(instance: Instance, upstream: string): boolean {
    const key = keyOf(instance);
    const nowMs = Date.now();
    const last = this.#followed.get(key);
    const startedAt = Date.parse(instance.status?.startedAt ?? "") || 0;
    const startedWith = this.#startedWith.get(key);
    const connecting = nowMs - startedAt < FOLLOW_EVERY_MS / 2 && (startedWith === undefined || startedWith === upstream);
    if ((last?.upstream === upstream && nowMs - last.at < FOLLOW_EVERY_MS) || connecting) return false;
    this.#followed.set(key, { at: nowMs, upstream, done: last?.upstream === upstream ? last.done : 0 });
    return true;
  }

  /** Apply the spec's durability once per process and value. */
  async #applyDurability(r: ReplicatedInstance, admin: Credentials, reporter: ReplicationReporter): Promise<void> {
    const wanted = r.instance.spec.replication?.durability;
    const pid = r.instance.status?.pid;
    if (wanted === undefined || pid === undefined || r.replication.configureDurability === undefined) return;
    const key = r.instance.metadata.uid ?? r.instance.metadata.name;
    const applying = `${pid}|${JSON.stringify(wanted)}`;
    if (this.#durability.get(key) === applying) return;
    try {
      await r.replication.configureDurability(r.context, durabilityOf(wanted), wanted.standbys ?? [], admin, r.host);
      this.#durability.set(key, applying);
    } catch (error) {
      await reporter.record("Warning", "DurabilityNotApplied", `${r.instance.metadata.name}: ${errorMessage(error)}`);
    }
  }
}

function keyOf(instance: Instance): string {
  return instance.metadata.uid ?? instance.metadata.name;
}

/** The spec names the instance primary and it is not fenced: a replica is to be promoted. */
function promotionAsked(instance: Instance): boolean {
  return instance.spec.role === "primary" && instance.spec.replication?.fenced !== true;
}

/** Probe at once: asked to promote, for a checkpoint, or for a probe newer than the last report. */
function probeAsked(instance: Instance): boolean {
  const { observeAfter, checkpointFor } = instance.spec.replication ?? {};
  if (promotionAsked(instance) && instance.status?.replicationState?.role !== "primary") return true;
  if (checkpointFor !== undefined && instance.status?.replicationState?.checkpointed !== checkpointFor) return true;
  return observeAfter !== undefined && !observedSince(instance, observeAfter);
}

/** Does `instance` run as a ready primary, as its own agent reports? */
function runsAsPrimary(instance: Instance): boolean {
  const status = instance.status;
  return status?.ready === true && status.pid !== undefined && (status.replicationState?.role ?? status.role) === "primary";
}

function durabilityOf(spec: ReplicationDurabilitySpec): ReplicationDurability {
  return spec.mode === "synchronous" ? { mode: "synchronous", quorum: spec.quorum ?? 1 } : { mode: "asynchronous" };
}
