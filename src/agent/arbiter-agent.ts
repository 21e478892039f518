/**
 * The node agent's part for an arbiter it runs (a Redis Sentinel; ADR 0024): the only code that talks to it. At its
 * cluster's probe period it asks the arbiter which member it names primary, its epoch, whether it sees the quorum and
 * which removed members it still watches, and reports that in status.arbiterState; it carries out the one request the
 * ha controller writes in spec.arbiterRequest (a switchover through this arbiter, in the background, or forgetting
 * removed members) and reports its outcome in status.arbiterRequest under the request's id.
 */
import { DEFAULT_HA_SETTINGS, haSettings, now, type ArbiterRequest, type ArbiterRequestStatus, type Cluster, type Instance } from "../api/index.ts";
import { errorMessage } from "../errors/index.ts";
import type { ArbiterGroup, ClientTrust, Engine, EngineArbiter, GroupMember } from "../engines/index.ts";
import type { Store } from "../store/index.ts";
import { arbitrationOf } from "./arbitration.ts";
import { arbiterStateOf, arbiterStateWorthWriting, finished, requestStep } from "./arbiter-state.ts";
import type { ReplicationReporter } from "./replicated-instance.ts";

/** While a switchover runs through this node's arbiter, look again this often to report its progress. */
const SWITCHOVER_POLL_MS = 50;
/** While a component of the cluster changes primary, ask the arbiter this often (the controller waits for a majority). */
const CLOSE_PROBE_MS = 100;
/** How long a group read for an arbiter is used before it is read again. */
const GROUP_TTL_MS = 1000;

/** A switchover through this node's arbiter, running in the background; the reconcile reports where it is. */
class SwitchoverJob {
  readonly id: string;
  readonly startedAt = now();
  promotingAt: string | undefined;
  outcome: ArbiterRequestStatus | undefined;

  constructor(request: ArbiterRequest, run: (onPromoting: () => void) => Promise<{ primary: string; writesPausedMs: number }>) {
    this.id = request.id;
    const started = performance.now();
    const from = request.from ?? "?";
    run(() => (this.promotingAt = now())).then(
      (done) => {
        const message = `${done.primary} is primary ${Math.round(performance.now() - started)} ms after the switchover began (writes on ${from} paused ${done.writesPausedMs} ms); ${from} replicates from it`;
        this.outcome = finished(request, this.startedAt, Date.now(), { result: "Succeeded", primary: done.primary, writesPausedMs: done.writesPausedMs, message, ...this.#promoting() });
      },
      (error: unknown) => {
        const message = `switchover from ${from} to ${request.candidate ?? "?"} failed: ${errorMessage(error)}`;
        this.outcome = finished(request, this.startedAt, Date.now(), { result: "Failed", message, ...this.#promoting() });
      },
    );
  }

  /** Where it is, for the status. */
  status(): ArbiterRequestStatus {
    return this.outcome ?? { id: this.id, result: "InProgress", startedAt: this.startedAt, ...this.#promoting() };
  }

  #promoting(): { promotingAt?: string } {
    return this.promotingAt === undefined ? {} : { promotingAt: this.promotingAt };
  }
}

/** What the agent works with for one arbiter instance. */
interface ArbiterPass {
  instance: Instance;
  arbiter: EngineArbiter;
  group: ArbiterGroup;
  self: GroupMember;
}

export class ArbiterAgent {
  readonly #store: Store;
  /** Per instance (uid): when its arbiter was last asked, and the probe period then. */
  readonly #askedAt = new Map<string, { at: number; periodMs: number }>();
  readonly #switchovers = new Map<string, SwitchoverJob>();
  /** Per instance: its group as last read (see #arbiterOf). */
  readonly #groups = new Map<string, { at: number; pass: ArbiterPass }>();

  /** What the connections to the arbiters and members check their certificates against (the cluster CA). */
  readonly #trust: ClientTrust | undefined;

  constructor(store: Store, trust?: ClientTrust) {
    this.#store = store;
    this.#trust = trust;
  }

  /** One pass over a running instance that may be an arbiter; when to look again (ms), undefined when it is none. */
  async tend(instance: Instance, engine: Engine, reporter: ReplicationReporter): Promise<number | undefined> {
    if (engine.replication?.arbiter === undefined || instance.spec.replication !== undefined) return undefined;
    const key = keyOf(instance);
    const job = this.#switchovers.get(key);
    if (job !== undefined && job.outcome === undefined) return this.#progress(instance, job, reporter);
    const step = requestStep(instance, job !== undefined);
    const asked = this.#askedAt.get(key) ?? { at: 0, periodMs: DEFAULT_HA_SETTINGS.probePeriodMs };
    const elapsed = Date.now() - asked.at;
    if (step.kind === "none" && elapsed < asked.periodMs) return asked.periodMs - elapsed;
    const arbiter = await this.#arbiterOf(instance, engine);
    // A standalone instance (or a group still being created) is looked at again after the same period.
    const periodMs = arbiter === undefined ? asked.periodMs : await this.#probePeriod(instance);
    this.#askedAt.set(key, { at: Date.now(), periodMs });
    if (arbiter === undefined) return periodMs;
    const request = await this.#carryOut(arbiter, step, reporter);
    await this.#report(arbiter, request, reporter);
    return this.#switchovers.has(key) ? SWITCHOVER_POLL_MS : periodMs;
  }

  /**
   * The arbiter on `instance` and its group; undefined when it is none (a standalone instance) or its group is not
   * complete. The group (instances, ports, accounts) is read again at most every GROUP_TTL_MS: while a component
   * changes primary the arbiter is asked every 100 ms, and its accounts need not be decrypted as often.
   */
  async #arbiterOf(instance: Instance, engine: Engine): Promise<ArbiterPass | undefined> {
    const key = keyOf(instance);
    const cached = this.#groups.get(key);
    if (cached !== undefined && Date.now() - cached.at < GROUP_TTL_MS) return { ...cached.pass, instance };
    const arbitration = await arbitrationOf(this.#store, instance, engine, this.#trust);
    const self = arbitration?.kind === "arbiter" ? arbitration.group.arbiters.find((a) => a.name === instance.metadata.name) : undefined;
    if (arbitration?.kind !== "arbiter" || self === undefined) {
      this.#groups.delete(key);
      return undefined;
    }
    const pass = { instance, arbiter: arbitration.arbiter, group: arbitration.group, self };
    this.#groups.set(key, { at: Date.now(), pass });
    return pass;
  }

  /** Forget what was asked of the arbiter of `instance` (it stopped or is gone); a switchover under way runs out by itself. */
  forget(instance: Instance): void {
    this.#askedAt.delete(keyOf(instance));
    this.#groups.delete(keyOf(instance));
  }

  /** The request's status to report after this pass's part of it (undefined: nothing new). */
  async #carryOut(pass: ArbiterPass, step: ReturnType<typeof requestStep>, reporter: ReplicationReporter): Promise<ArbiterRequestStatus | undefined> {
    const key = keyOf(pass.instance);
    switch (step.kind) {
      case "none":
        return undefined;
      case "interrupted":
        return finished(step.request, pass.instance.status?.arbiterRequest?.startedAt ?? now(), Date.now(), { result: "Failed", message: `the node agent of ${pass.self.name} restarted while carrying out the request: ask again` });
      case "running":
        return this.#ended(key);
      case "start":
        if (step.request.action === "Forget") return this.#forgetDeparted(pass, step.request, reporter);
        return this.#startSwitchover(pass, step.request);
    }
  }

  #startSwitchover(pass: ArbiterPass, request: ArbiterRequest): ArbiterRequestStatus {
    const { arbiter, group, self } = pass;
    const move = { from: request.from ?? "", candidate: request.candidate ?? "" };
    const job = new SwitchoverJob(request, (onPromoting) => arbiter.switchover(self, group, move, onPromoting));
    this.#switchovers.set(keyOf(pass.instance), job);
    return job.status();
  }

  /** A switchover under way: report where it is (the promotion above all, which the controller holds the endpoint for). */
  async #progress(instance: Instance, job: SwitchoverJob, reporter: ReplicationReporter): Promise<number> {
    const status = job.status();
    if (JSON.stringify(status) !== JSON.stringify(instance.status?.arbiterRequest)) await reporter.setStatus({ arbiterRequest: status });
    return SWITCHOVER_POLL_MS;
  }

  /** A switchover that ended: its outcome, reported with a fresh word from the arbiter (the controller records the event). */
  #ended(key: string): ArbiterRequestStatus | undefined {
    const job = this.#switchovers.get(key);
    this.#switchovers.delete(key);
    return job?.status();
  }

  async #forgetDeparted(pass: ArbiterPass, request: ArbiterRequest, reporter: ReplicationReporter): Promise<ArbiterRequestStatus> {
    const startedAt = now();
    try {
      const forgot = await pass.arbiter.forgetDeparted(pass.self, pass.group);
      if (forgot !== undefined) await reporter.record("Normal", "ArbitersUpdated", forgot);
      return finished(request, startedAt, Date.now(), { result: "Succeeded", message: forgot ?? `${pass.self.name} watches no removed member` });
    } catch (error) {
      return finished(request, startedAt, Date.now(), { result: "Failed", message: `${pass.self.name} could not forget removed members: ${errorMessage(error)}` });
    }
  }

  /** Ask the arbiter and write what it said, with the request's status, when either changed or a refresh is due. */
  async #report(pass: ArbiterPass, request: ArbiterRequestStatus | undefined, reporter: ReplicationReporter): Promise<void> {
    const current = pass.instance.status?.arbiterState;
    const next = arbiterStateOf(current, await pass.arbiter.observe(pass.self, pass.group), Date.now());
    const requestChanged = request !== undefined && JSON.stringify(request) !== JSON.stringify(pass.instance.status?.arbiterRequest);
    if (!requestChanged && !arbiterStateWorthWriting(current, next, Date.now())) return;
    await reporter.setStatus({ arbiterState: next, ...(requestChanged ? { arbiterRequest: request } : {}) });
  }

  /** The cluster's probe period; closer while one of its components changes primary, so the record follows the arbiters sooner. */
  async #probePeriod(instance: Instance): Promise<number> {
    const cluster = await this.#store.get<Cluster>({ kind: "Cluster", namespace: instance.metadata.namespace ?? "default", name: instance.spec.clusterName });
    if (cluster === undefined) return DEFAULT_HA_SETTINGS.probePeriodMs;
    const changing = Object.values(cluster.status?.replication ?? {}).some((r) => r.targetPrimary !== r.currentPrimary);
    return changing ? CLOSE_PROBE_MS : haSettings(cluster).probePeriodMs;
  }
}

function keyOf(instance: Instance): string {
  return instance.metadata.uid ?? instance.metadata.name;
}
