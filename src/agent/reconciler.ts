/**
 * The local runtime's instance controller (what a kubelet is to a Pod): keeps one database process per
 * Instance running as its cluster's own OS user, re-adopts processes that outlived a control-plane restart,
 * restarts crashed ones with backoff, and removes the data when the instance is deleted.
 */
import { instanceConfigHash, instanceHost, instanceLiveConfigPending, instanceNeedsRestart, now, primaryLeaseHolder, type Instance, type InstanceStatus } from "../api/index.ts";
import type { HeldLease } from "../store/index.ts";
import type { Logger } from "../util/index.ts";
import type { HomePaths } from "../config/index.ts";
import { ConflictError, errorMessage, UnavailableError } from "../errors/index.ts";
import type { ClientTrust, CommandSpec, Credentials, Engine, EngineReplication, EngineVersion, HostAccess, InstanceContext, ReplicaSettingsDrift } from "../engines/index.ts";
import { canBind, createInstanceDirectories, findAdoptableProcess, removeInstanceDirectory, tailFile, type InstanceUsers, type ProcessHandle, type ProcessSupervisor, type ServiceUser } from "../runtime/index.ts";
import type { Store } from "../store/index.ts";
import type { EngineLookup } from "../controllers/cluster/index.ts";
import type { DataRestorer } from "../dataprotection/index.ts";
import { splitKey, type EventRecorder, type ReconcileResult, type Reconciler } from "../controllers/runtime/index.ts";
import { readAccounts } from "./accounts.ts";
import { rotationUnderWay, tendPasswords } from "./password-rotation.ts";
import { tendManagedUsers } from "./managed-users.ts";
import { tendManagedDatabases } from "./managed-databases.ts";
import { CustomActions } from "./custom-action.ts";
import { arbitrationOf, type Arbitration } from "./arbitration.ts";
import { desiredRole, fencesOnExit, isFenced, lookUpUpstream, mayRun, needsPrimaryLease, readReplicationCredentials, replicationOf, type UpstreamLookup } from "./replication.ts";
import { PrimaryLeases } from "./primary-lease.ts";
import { leaseDurationOf } from "./cluster-settings.ts";
import { liveParameterChange, liveParametersApplied } from "./live-parameters.ts";
import { nextFailureCount, restartDelayMs } from "./backoff.ts";
import { instanceLogFile } from "./layout.ts";
import { componentAddresses, instanceContext } from "./instance-context.ts";
import { InstanceCertificates } from "./instance-certificates.ts";
import { instanceTrust } from "./instance-tls.ts";
import { claimInstance } from "./binding.ts";
import { isFormerNode, releaseFormerCopy } from "./release.ts";
import { clearDirectory } from "./clear-directory.ts";
import { mayBeStranded, rebuildBackup, rebuildBegun, rebuildDue, rebuildFinished, rebuildNotBegun, rebuildSource } from "./rebuild.ts";
import { fenceInstance } from "./fence.ts";
import { ReplicationAgent } from "./replication-agent.ts";
import { ArbiterAgent } from "./arbiter-agent.ts";
import type { ReplicationReporter } from "./replicated-instance.ts";
import { InstanceRestores, type RestoreStatusWriter, type RestoreStep } from "./restore-data.ts";
import { quotaProblemAtCreation, StorageWatch } from "./storage-watch.ts";
import { ReplicaSettingsWatch } from "./replica-settings.ts";
import { mkdir, rm } from "node:fs/promises";
import { dirname } from "node:path";

/** Finalizer held until the process is stopped and, if asked, the data removed. */
export const INSTANCE_FINALIZER = "holdfast.io/instance-protection";

/** While a server starts, probe soon and then less often: most start in well under a second. */
const FIRST_PROBE_MS = 20;
const STARTING_POLL_MAX_MS = 250;
const LIVENESS_POLL_MS = 1000;
const READINESS_EVERY_MS = 5000;
/** How soon to look again at an instance whose port another program holds (moving it also wakes it). */
const PORT_CONFLICT_RECHECK_MS = 2000;
/** How often the log of a replica that does not stream is read for a reason it never will (rebuild.ts mayBeStranded). */
const STRANDED_CHECK_MS = 10_000;

export interface InstanceReconcilerOptions {
  store: Store;
  engines: EngineLookup;
  events: EventRecorder;
  supervisor: ProcessSupervisor;
  /** Whom each instance runs as (one OS user per cluster). */
  users: InstanceUsers;
  paths: HomePaths;
  /** Fills the data directory of an instance whose spec names a backup (spec.restore). */
  restorer?: DataRestorer;
  /** Reconcile `instance` now: called when its restore ends, so that it starts at once. */
  wake?: (instance: Instance) => void;
  /** This node: only instances bound to it (spec.nodeName) are acted on. */
  nodeName: string;
  logger?: Logger;
  /** The address this node's databases listen on and peers reach them at (databaseAddress); written to status.host. */
  address: string;
}

interface Context {
  instance: Instance;
  engine: Engine;
  version: EngineVersion;
  ctx: InstanceContext;
  logFile: string;
  /** The instance's OS user, and commands and files as that user. */
  user: ServiceUser;
  host: HostAccess;
}

export class InstanceReconciler implements Reconciler {
  readonly #o: InstanceReconcilerOptions;
  /** When each instance was last probed for readiness, to probe the database less often than /proc. */
  readonly #lastProbe = new Map<string, number>();
  /** Restores running in the background (restore-data.ts). */
  readonly #restores: InstanceRestores | undefined;
  /** Probes, promotions, repointing and durability of replicated instances (replication-agent.ts). */
  readonly #replication: ReplicationAgent;
  /** What the arbiters (Redis Sentinels) this node runs say, and the ha controller's requests of them (arbiter-agent.ts). */
  readonly #arbiters: ArbiterAgent;
  /** The primary leases this node holds (primary-lease.ts), and how to fence each primary without the store. */
  readonly #leases: PrimaryLeases;
  readonly #leased = new Map<string, () => Promise<void>>();
  /** The component's addresses each running server accepts replication from (allowPeers), by instance name. */
  readonly #peers = new Map<string, string>();
  /** The server process (pid) each instance's system accounts were last ensured for (Engine.ensureAccounts), by instance name. */
  readonly #accountsEnsured = new Map<string, number>();
  /** The pid of each instance's server whose start is finished (Engine.finishStart). */
  readonly #startFinished = new Map<string, number>();
  /** Each instance's TLS files, naming every node's address also as nodes join (instance-certificates.ts). */
  readonly #certificates: InstanceCertificates;
  /** Replicas whose log says they cannot catch up with their primary (the reason), rebuilt at the next pass; and when each log was last read. */
  readonly #stranded = new Map<string, string>();
  readonly #strandCheckedAt = new Map<string, number>();
  /** The cluster CA: what this agent's connections for arbitration (Sentinel) check instances against; others use instanceTrust. */
  readonly #trust: ClientTrust;
  /** Storage measured against each instance's quota, and writes protected at it (storage-watch.ts). */
  readonly #storage: StorageWatch;
  /** Replicas whose start settings no longer fit their primary's (replica-settings.ts). */
  readonly #replicaSettings: ReplicaSettingsWatch;
  /** The engine actions of Custom OpsRequests, run in the background (custom-action.ts). */
  readonly #actions: CustomActions;

  constructor(options: InstanceReconcilerOptions) {
    this.#o = options;
    this.#trust = { caFile: options.paths.tls.caCertificate };
    this.#leases = new PrimaryLeases({ leases: options.store.leases, nodeName: options.nodeName, ...(options.logger === undefined ? {} : { logger: options.logger }), onLost: (key) => void this.#fenceForLostLease(key) });
    this.#replication = new ReplicationAgent(options.store, (instance) => this.#holdLease(instance), (instance) => instanceTrust(options.paths, instance));
    this.#arbiters = new ArbiterAgent(options.store, this.#trust);
    this.#restores = options.restorer === undefined ? undefined : new InstanceRestores(options.restorer, options.wake);
    this.#certificates = new InstanceCertificates(options);
    this.#storage = new StorageWatch((instance) => instanceTrust(options.paths, instance));
    this.#replicaSettings = new ReplicaSettingsWatch(options.store);
    this.#actions = new CustomActions((instance) => instanceTrust(options.paths, instance));
  }

  async reconcile(key: string): Promise<ReconcileResult | undefined> {
    const { namespace = "default", name } = splitKey(key);
    const instance = await this.#bound(namespace, name);
    if (!instance) return undefined;
    this.#restores?.prepare(instance);
    const context = await this.#context(instance);
    if (instance.metadata.deletionTimestamp !== undefined) return this.#finalize(context);
    if (!(instance.metadata.finalizers ?? []).includes(INSTANCE_FINALIZER)) {
      context.instance = await this.#o.store.update<Instance>({ ...instance, metadata: { ...instance.metadata, finalizers: [...(instance.metadata.finalizers ?? []), INSTANCE_FINALIZER] } });
    }
    const running = await this.#findProcess(context);
    if (!mayRun(context.instance)) return this.#ensureStopped(context, running);
    if (running) return (await this.#restartIfDue(context, running)) ?? this.#observe(context, running);
    return this.#recover(context);
  }

  /**
   * A running process is restarted when its spec asks (a restart, a new static configuration) or it must be
   * rewound; new live parameters are applied in place, or by a restart when the engine cannot take them live.
   */
  async #restartIfDue(c: Context, running: ProcessHandle): Promise<ReconcileResult | undefined> {
    const stranded = await this.#rebuildIfStranded(c, running);
    if (stranded !== undefined) return stranded;
    // A replica is stopped for its rebuild only once its primary runs: until then it stays a candidate for a failover.
    if (rebuildDue(c.instance) && (await lookUpUpstream(this.#o.store, c.instance)).kind !== "waiting") {
      await this.#stopProcess(c, running);
      return this.#start(c, "Rebuilt", "started on its rebuilt data");
    }
    if (this.#replication.rewindWanted(c.instance)) {
      await this.#stopProcess(c, running);
      return this.#start(c, "Rewinding", "restarted to be rewound onto its upstream's timeline");
    }
    const drift = await this.#replicaSettingsDrift(c);
    if (drift !== undefined) {
      await this.#recordOnClusterToo(c, drift.urgent ? "Warning" : "Normal", "ReplicaSettings", drift.message);
      await this.#stopProcess(c, running);
      return this.#start(c, "Restarted", "restarted with settings that fit its primary's");
    }
    if (instanceNeedsRestart(c.instance)) {
      const requested = restartRequested(c.instance);
      await this.#stopProcess(c, running);
      return requested ? this.#start(c, "Restarted", "restarted on request") : this.#start(c, "Reconfigured", "restarted with a new configuration");
    }
    if (instanceLiveConfigPending(c.instance) && !(await this.#applyLive(c))) {
      await this.#stopProcess(c, running);
      return this.#start(c, "Reconfigured", "restarted: a parameter removed from its configuration returns to its default at a start");
    }
    return undefined;
  }

  /**
   * A replica whose log said it cannot catch up (its primary removed the WAL it needs): replaced by a new copy of its
   * primary once that runs, as a RebuildInstance would (ADR 0045), with a Warning event saying why.
   */
  async #rebuildIfStranded(c: Context, running: ProcessHandle): Promise<ReconcileResult | undefined> {
    const key = keyOf(c.instance);
    const reason = this.#stranded.get(key);
    if (reason === undefined) return undefined;
    const upstream = await lookUpUpstream(this.#o.store, c.instance);
    if (upstream.kind !== "ready") return undefined;
    this.#stranded.delete(key);
    await this.#recordOnClusterToo(c, "Warning", "Rebuilding", `cannot catch up with ${upstream.name} (${reason}): its data is replaced by a copy of ${upstream.name}`);
    await this.#stopProcess(c, running);
    await clearDirectory(c.ctx.dataDirectory);
    return this.#start(c, "Rebuilt", `started on a new copy of ${upstream.name}`);
  }

  /** A running replica that does not stream: read its log (at most every STRANDED_CHECK_MS) for a reason it never will. */
  async #noticeStranded(c: Context): Promise<void> {
    const replication = replicationOf(c.instance, c.engine);
    const key = keyOf(c.instance);
    const nowMs = Date.now();
    if (replication?.cannotCatchUp === undefined || !mayBeStranded(c.instance, nowMs) || nowMs - (this.#strandCheckedAt.get(key) ?? 0) < STRANDED_CHECK_MS) return;
    this.#strandCheckedAt.set(key, nowMs);
    const reason = replication.cannotCatchUp(await tailFile(c.logFile, 4000).catch(() => ""));
    if (reason !== undefined) this.#stranded.set(key, reason);
  }

  /** A ready replica's start settings that no longer fit its primary's (replica-settings.ts); a failed check is reported and retried. */
  async #replicaSettingsDrift(c: Context): Promise<ReplicaSettingsDrift | undefined> {
    const replication = replicationOf(c.instance, c.engine);
    if (replication?.settingsDrift === undefined) return undefined;
    const admin = async (): Promise<Credentials | undefined> => (await readAccounts(this.#o.store, c.instance, c.engine))[0];
    try {
      return await this.#replicaSettings.restartFor({ instance: c.instance, replication, context: c.ctx, host: c.host, admin });
    } catch (error) {
      this.#o.logger?.warn(`${keyOf(c.instance)}: replica settings not checked: ${errorMessage(error)}`);
      return undefined;
    }
  }

  /** Give the running server its live parameters (the engine's dynamic ones); false when the engine needs a restart for them. */
  async #applyLive(c: Context): Promise<boolean> {
    if (c.engine.applyParameters === undefined) return false;
    await this.#placeOnNode(c);
    const [admin] = await readAccounts(this.#o.store, c.instance, c.engine);
    if (admin === undefined) return false;
    const change = liveParameterChange(c.instance);
    if (!(await c.engine.applyParameters({ context: c.ctx, ...change }, admin, c.host, instanceTrust(this.#o.paths, c.instance)))) return false;
    c.instance = await this.#setStatus(c.instance, liveParametersApplied(c.instance));
    const names = [...Object.keys(change.set), ...change.removed].join(", ");
    await this.#o.events.record(c.instance, "Normal", "ParametersApplied", `applied without a restart: ${names}`);
    return true;
  }

  /**
   * The instance, if it is bound to this node (or adopted by it now): the agent acts on no other. One rebuilt elsewhere
   * while this node was lost is let go of first (release.ts).
   */
  async #bound(namespace: string, name: string): Promise<Instance | undefined> {
    const found = await this.#o.store.get<Instance>({ kind: "Instance", namespace, name });
    if (found !== undefined && isFormerNode(found, this.#o.nodeName)) {
      const { instance, engine, ctx, user } = await this.#context(found);
      this.#replication.forget(instance);
      await releaseFormerCopy(this.#o, { instance, engine, ctx, user });
      return undefined;
    }
    return found === undefined ? undefined : claimInstance(this.#o, found);
  }

  async #context(instance: Instance): Promise<Context> {
    const engine = this.#o.engines.find(instance.spec.engine);
    if (!engine) throw new UnavailableError(`engine ${instance.spec.engine} is not available in this build`);
    const ctx = await instanceContext(this.#o.paths, this.#o.engines, engine, instance);
    const [user, host] = await Promise.all([this.#o.users.userOf(instance), this.#o.users.hostOf(instance)]);
    return { instance, engine, version: ctx.version, ctx, logFile: instanceLogFile(this.#o.paths, instance), user, host };
  }

  /** The live process of this instance: the one recorded in status if it is still the same process, else one to adopt. */
  async #findProcess(c: Context): Promise<ProcessHandle | undefined> {
    const { pid, processStartTicks } = c.instance.status ?? {};
    if (pid !== undefined && processStartTicks !== undefined && (await this.#o.supervisor.isRunning(pid, processStartTicks))) return { pid, startTicks: processStartTicks };
    const adopted = await findAdoptableProcess(c.engine.pidFile(c.ctx), c.engine.startCommand(c.ctx).command, c.user);
    if (!adopted) return undefined;
    c.instance = await this.#setStatus(c.instance, { pid: adopted.pid, processStartTicks: adopted.startTicks, startedAt: c.instance.status?.startedAt ?? now() });
    await this.#o.events.record(c.instance, "Normal", "Adopted", `re-adopted running process ${adopted.pid}`);
    return adopted;
  }

  async #ensureStopped(c: Context, running: ProcessHandle | undefined): Promise<ReconcileResult | undefined> {
    const fenced = isFenced(c.instance);
    const replication = fenced ? replicationOf(c.instance, c.engine) : undefined;
    if (replication !== undefined) return this.#fence(c, replication, running);
    if (running) {
      await this.#setStatus(c.instance, { phase: "Stopping", ready: false });
      await this.#stopProcess(c, running);
      await this.#o.events.record(c.instance, "Normal", "Stopped", fenced ? "fenced: stopped so it cannot accept writes" : "stopped on request");
    }
    await this.#releaseLease(c);
    // The write also acknowledges the spec seen (observedGeneration): the ha controller waits for it after fencing.
    const acknowledged = c.instance.status?.observedGeneration === c.instance.metadata.generation;
    if (c.instance.status?.phase !== "Stopped" || c.instance.status.pid !== undefined || !acknowledged) {
      const message = fenced ? "fenced: not started until the ha controller releases it" : undefined;
      await this.#setStatus(c.instance, { phase: "Stopped", ready: false, pid: undefined, processStartTicks: undefined, role: undefined, message });
    }
    return undefined;
  }

  /**
   * A fenced instance of a replicated component is stopped with the engine's fence (nothing of it keeps running, a start
   * that was under way included) until this agent has acknowledged the fenced spec (observedGeneration), which the ha
   * controller waits for; the acknowledgement carries where the WAL ends, for a switchover's catch-up.
   */
  async #fence(c: Context, replication: EngineReplication, running: ProcessHandle | undefined): Promise<ReconcileResult | undefined> {
    const status = c.instance.status;
    const acknowledged = status !== undefined && status.observedGeneration === c.instance.metadata.generation && status.phase === "Stopped" && status.pid === undefined;
    if (acknowledged && running === undefined) return undefined;
    if (running !== undefined) await this.#setStatus(c.instance, { phase: "Stopping", ready: false });
    const finalPosition = await fenceInstance(replication, c.ctx, c.host);
    this.#replication.forget(c.instance);
    await this.#releaseLease(c);
    const replicationState = { observedAt: now(), ...(finalPosition === undefined ? {} : { finalPosition }) };
    const message = "fenced: not started until the ha controller releases it";
    await this.#setStatus(c.instance, { phase: "Stopped", ready: false, pid: undefined, processStartTicks: undefined, role: undefined, message, replicationState });
    if (running !== undefined) await this.#o.events.record(c.instance, "Normal", "Stopped", "fenced: stopped so it cannot accept writes");
    return undefined;
  }

  async #stopProcess(c: Context, running: ProcessHandle): Promise<void> {
    const outcome = await this.#o.supervisor.stop(running.pid, running.startTicks, c.engine.stop);
    if (outcome === "killed") await this.#o.events.record(c.instance, "Warning", "Killed", `process ${running.pid} did not stop within ${c.engine.stop.timeoutMs} ms and was killed`);
    c.instance = await this.#setStatus(c.instance, { pid: undefined, processStartTicks: undefined, ready: false });
  }

  /** No process: first start, or a crash to restart after its backoff. */
  async #recover(c: Context): Promise<ReconcileResult | undefined> {
    const status = c.instance.status ?? {};
    if (status.pid === undefined) {
      const wait = status.backoffUntil === undefined ? 0 : Date.parse(status.backoffUntil) - Date.now();
      if (wait > 0 && !restartRequested(c.instance) && !rebuildDue(c.instance)) return { requeueAfterMs: wait };
      return (status.restartCount ?? 0) > 0 ? this.#start(c, "Restarted", "restarted") : this.#start(c, "Started", "started");
    }
    const failures = nextFailureCount(status.consecutiveFailures, status.startedAt, Date.now());
    const delay = restartDelayMs(failures);
    const logTail = await tailFile(c.logFile, 600).catch(() => "");
    const message = `process ${status.pid} exited unexpectedly${logTail === "" ? "" : `; last log lines: ${lastLines(logTail, 3)}`}`;
    if (fencesOnExit(c.instance)) return this.#fenceAfterExit(c, message);
    c.instance = await this.#setStatus(c.instance, {
      pid: undefined,
      processStartTicks: undefined,
      ready: false,
      lastTerminatedAt: now(),
      consecutiveFailures: failures,
      restartCount: (status.restartCount ?? 0) + 1,
      phase: delay > 0 ? "CrashLoopBackOff" : "Starting",
      message,
      backoffUntil: new Date(Date.now() + delay).toISOString(),
    });
    await this.#recordOnClusterToo(c, "Warning", "BackOff", `${message}; restart ${c.instance.status?.restartCount ?? 0} in ${delay} ms`);
    return delay > 0 ? { requeueAfterMs: delay } : this.#start(c, "Restarted", "restarted after an unexpected exit");
  }

  async #start(c: Context, reason: string, message: string): Promise<ReconcileResult> {
    const taken = await this.#portTaken(c);
    if (taken !== undefined) return taken;
    const unleased = await this.#leaseToStart(c);
    if (unleased !== undefined) return unleased;
    // A restore's data is what the start waits for longest: it begins first, and the certificate is issued while it runs.
    const restorePending = await this.#restorePending(c);
    await this.#placeOnNode(c, !restorePending);
    const accounts = await readAccounts(this.#o.store, c.instance, c.engine);
    const arbitration = await arbitrationOf(this.#o.store, c.instance, c.engine, this.#trust);
    if (arbitration?.kind === "waiting") return this.#waitForUpstream(c, arbitration.message);
    // Under arbiters (Redis Sentinel) they, not the spec, say what a member replicates from: asked in #configure.
    const upstream: UpstreamLookup = arbitration === undefined ? await lookUpUpstream(this.#o.store, c.instance) : { kind: "none" };
    if (upstream.kind === "waiting") return this.#waitForUpstream(c, upstream.message);
    await this.#beginRebuild(c, upstream);
    try {
      const restoring = await this.#prepare(c, accounts, upstream, restorePending);
      if (restoring !== undefined) return restoring;
    } catch (error) {
      if (error instanceof InitializationError) return this.#initFailed(c, error.message);
      throw error;
    }
    const command = await this.#configure(c, accounts, upstream, arbitration);
    const rebuilt = rebuildFinished(c.instance);
    const handle = await this.#o.supervisor.spawn({ command, user: c.user, logFile: c.logFile, cwd: c.ctx.rootDirectory });
    c.instance = await this.#setStatus(c.instance, {
      ...rebuilt,
      phase: "Starting",
      ready: false,
      pid: handle.pid,
      processStartTicks: handle.startTicks,
      startedAt: now(),
      dataDirectory: c.ctx.dataDirectory,
      logFile: c.logFile,
      appliedConfig: instanceConfigHash(c.instance.spec),
      ...liveParametersApplied(c.instance),
      portConflict: undefined,
      // A new process: what was seen of the last one (a hold after its exit included) no longer holds.
      replicationState: undefined,
      arbiterState: undefined,
      ...(c.instance.spec.restartRequest === undefined ? {} : { appliedRestartRequest: c.instance.spec.restartRequest }),
    });
    this.#lastProbe.delete(c.instance.metadata.name);
    this.#arbiters.forget(c.instance);
    await this.#o.events.record(c.instance, "Normal", reason, `${message}: pid ${handle.pid}, port ${c.ctx.port}`);
    if ("rebuild" in rebuilt) await this.#recordOnClusterToo(c, "Normal", "Rebuilt", `rebuilt from ${rebuilt.rebuild?.source ?? "?"}`);
    return { requeueAfterMs: FIRST_PROBE_MS };
  }

  /**
   * A rebuild asked of this replica (rebuild.ts), once its primary runs: its old data is removed, after status says
   * so (a cancel then knows there is nothing to go back to), and the start goes on as for a new replica.
   */
  async #beginRebuild(c: Context, upstream: UpstreamLookup): Promise<void> {
    // An arbitrated member (upstream "none", its arbiters name its primary) is rebuilt too: it starts empty and syncs in full.
    if (!rebuildNotBegun(c.instance) || upstream.kind === "waiting" || replicationOf(c.instance, c.engine) === undefined) return;
    const source = rebuildSource(c.instance, upstream.kind === "ready" ? upstream.name : undefined);
    // A restore from an earlier request may still be writing into the directory: stopped (and its files removed) first.
    await this.#restores?.cancel(c.instance.metadata.uid ?? c.instance.metadata.name);
    c.instance = await this.#setStatus(c.instance, { ...rebuildBegun(c.instance, source), phase: "Initializing", ready: false, message: `rebuilding from ${source}` });
    await this.#recordOnClusterToo(c, "Normal", "Rebuilding", `removing its data to rebuild it from ${source}`);
    this.#replication.rewound(c.instance);
    await clearDirectory(c.ctx.dataDirectory);
  }

  /** Is data still to be restored from the backup spec.restore names (not yet whole in the data directory)? */
  async #restorePending(c: Context): Promise<boolean> {
    return this.#restores !== undefined && c.instance.spec.restore !== undefined && !(await c.engine.isInitialized(c.ctx));
  }

  /**
   * Before a start: the node's address in status.host (peers read it: instanceHost) and in the context, the addresses
   * of the component's instances (replication is accepted from them alone), and TLS files for that address (unless
   * `withCertificate` is false: the caller prepares them later).
   */
  async #placeOnNode(c: Context, withCertificate = true): Promise<void> {
    const address = this.#o.address;
    if (c.instance.status?.host !== address) c.instance = await this.#setStatus(c.instance, { host: address });
    const peerAddresses = await componentAddresses(this.#o.store, c.instance);
    c.ctx = { ...c.ctx, address, peerAddresses };
    this.#peers.set(c.instance.metadata.name, peerAddresses.join(","));
    // The namespace directory only needs to be traversable (not listable) by the service user.
    await mkdir(dirname(c.ctx.rootDirectory), { recursive: true, mode: 0o711 });
    await createInstanceDirectories(c.ctx, c.user);
    if (withCertificate) await this.#certificates.prepare(c.instance, c.ctx, c.host);
  }

  /**
   * Initialise the data directory (its directories exist: #placeOnNode) unless a complete initialisation exists; a restore from a
   * backup runs in the background, and while it does this returns when to look again. `certificateDeferred`: #placeOnNode
   * left the TLS files to this step (see #restoreFirst).
   */
  async #prepare(c: Context, accounts: readonly Credentials[], upstream: UpstreamLookup, certificateDeferred: boolean): Promise<ReconcileResult | undefined> {
    const restoring = await this.#restoreFirst(c, accounts, upstream, certificateDeferred);
    if (restoring !== undefined) return restoring;
    if (await c.engine.isInitialized(c.ctx)) return undefined;
    // New data would be given the passwords in effect while the running instances change them (ADR 0038).
    if (await rotationUnderWay(this.#o.store, c.instance, c.engine)) return this.#waitForUpstream(c, "waiting for the password rotation of its component to finish");
    const misfit = await quotaProblemAtCreation(c.instance, c.ctx.rootDirectory);
    if (misfit !== undefined) throw new InitializationError(`${misfit}; free disk space or ask for a smaller storage request`);
    c.instance = await this.#setStatus(c.instance, { phase: "Initializing", message: undefined });
    await clearDirectory(c.ctx.dataDirectory);
    try {
      await this.#initializeData(c, accounts, upstream);
    } catch (error) {
      throw new InitializationError(errorMessage(error), { cause: error });
    }
    const how = upstream.kind === "ready" ? `cloned from ${upstream.name}` : "initialised";
    await this.#o.events.record(c.instance, "Normal", "Initialized", `${how} ${c.engine.name} ${c.version.version} data directory`);
    return undefined;
  }

  /**
   * The restore's step: when to look again while it runs, a failure as an InitializationError, undefined once there is
   * nothing (more) to restore. A certificate left to this step is issued in the pass that starts the restore (while it
   * runs in the background), or once there is no restore to run.
   */
  async #restoreFirst(c: Context, accounts: readonly Credentials[], upstream: UpstreamLookup, certificateDeferred: boolean): Promise<ReconcileResult | undefined> {
    const restore = await this.#restoreStep(c, accounts, upstream);
    if (restore?.kind === "failed") throw new InitializationError(restore.message);
    const issueNow = certificateDeferred && (restore?.kind !== "running" || restore.started === true);
    if (issueNow) await this.#certificates.prepare(c.instance, c.ctx, c.host);
    return restore?.kind === "running" ? { requeueAfterMs: restore.requeueAfterMs } : undefined;
  }

  /**
   * A replica with a running upstream is cloned from it even when its spec names a backup, unless a rebuild asks for
   * that backup (restored as a replica, then caught up from the upstream); anything else restores what spec.restore names.
   */
  async #restoreStep(c: Context, accounts: readonly Credentials[], upstream: UpstreamLookup): Promise<RestoreStep | undefined> {
    const backup = rebuildBackup(c.instance);
    if (backup !== undefined && upstream.kind === "ready") {
      const instance = { ...c.instance, spec: { ...c.instance.spec, restore: backup } };
      return this.#restores?.step({ instance, engine: c.engine, context: c.ctx, accounts, host: c.host, asReplica: true }, this.#restoreWriter(c));
    }
    if (upstream.kind === "ready") {
      // A rebuild from a backup cancelled while it restored: its restore stops (and removes what it wrote) first.
      await this.#restores?.cancel(c.instance.metadata.uid ?? c.instance.metadata.name);
      return undefined;
    }
    return this.#restores?.step({ instance: c.instance, engine: c.engine, context: c.ctx, accounts, host: c.host }, this.#restoreWriter(c));
  }

  /** How a restore step writes to the instance being reconciled. */
  #restoreWriter(c: Context): RestoreStatusWriter {
    return {
      instance: () => c.instance,
      setStatus: async (changes) => void (c.instance = await this.#setStatus(c.instance, changes)),
      record: (type, reason, message) => this.#recordOnClusterToo(c, type, reason, message),
    };
  }

  /** A replica's data is a copy of its running upstream; anything else starts empty. */
  async #initializeData(c: Context, accounts: readonly Credentials[], upstream: UpstreamLookup): Promise<void> {
    const replication = replicationOf(c.instance, c.engine);
    if (replication !== undefined && upstream.kind === "ready") {
      const credentials = await readReplicationCredentials(this.#o.store, c.instance, replication, accounts);
      await replication.cloneReplica(c.ctx, { host: upstream.host, port: upstream.port }, credentials, c.host);
      return;
    }
    await c.engine.initialize(c.ctx, accounts, c.host);
  }

  /** Configuration before a start, and the command to start: an arbiter runs its own; a member asks the arbiters its role. */
  async #configure(c: Context, accounts: readonly Credentials[], upstream: UpstreamLookup, arbitration: Arbitration | undefined): Promise<CommandSpec> {
    if (arbitration?.kind === "arbiter") {
      await arbitration.arbiter.configureArbiter(c.ctx, arbitration.group, c.host);
      return arbitration.arbiter.arbiterCommand(c.ctx);
    }
    await c.engine.configure(c.ctx, accounts, c.host);
    if (arbitration?.kind === "member") {
      const role = await arbitration.arbiter.configureMember(c.ctx, arbitration.group, c.host);
      const as = role.role === "primary" ? "the primary" : `a replica of ${role.upstream.host}:${role.upstream.port}`;
      await this.#o.events.record(c.instance, "Normal", "StartRole", `starting as ${as}, having asked the arbiters of ${arbitration.group.name} first`);
    } else {
      await this.#configureRole(c, accounts, upstream);
    }
    return c.engine.startCommand(c.ctx);
  }

  /** Replication settings for the role to start in; a former primary starting as a replica is rewound first. */
  async #configureRole(c: Context, accounts: readonly Credentials[], upstream: UpstreamLookup): Promise<void> {
    const replication = replicationOf(c.instance, c.engine);
    if (replication === undefined) return;
    const credentials = await readReplicationCredentials(this.#o.store, c.instance, replication, accounts);
    const desired = desiredRole(upstream);
    // A replica that diverged (divergence.ts) is rewound like a former primary.
    const diverged = desired.role === "secondary" && this.#replication.rewindWanted(c.instance);
    const rejoining = desired.role === "secondary" && (diverged || (await replication.lastRanAsPrimary(c.ctx)));
    const name = upstream.kind === "ready" ? upstream.name : "?";
    if (rejoining) c.instance = await this.#setStatus(c.instance, { phase: "Initializing", message: `rejoining as a replica of ${name}` });
    const configured = await replication.configureRole(c.ctx, diverged ? { ...desired, rewind: true } : desired, credentials, c.host);
    if (diverged) this.#replication.rewound(c.instance);
    if (upstream.kind === "ready") this.#replication.pointedAt(c.instance, upstream.name);
    const who = diverged ? "diverged replica" : "former primary";
    // A data directory that could not be rewound is replaced by a copy of the upstream: a rebuild, said as one.
    if (configured?.recloned !== undefined) await this.#recordOnClusterToo(c, "Warning", "Rebuilt", `${who} could not rejoin ${name} in place (${configured.recloned}): its data was replaced by a copy of ${name}`);
    else if (rejoining) await this.#recordOnClusterToo(c, "Normal", "Rejoined", `${who} rewound onto ${name} and configured as its replica`);
  }

  /**
   * Nothing of this instance runs (else it would have been found or adopted), so a port that cannot be bound is
   * held by another program: report it instead of starting a process that would exit at once and crash-loop. The
   * cluster controller, which alone writes spec.port, moves the instance (ADR 0015).
   */
  async #portTaken(c: Context): Promise<ReconcileResult | undefined> {
    const { port } = c.ctx;
    if (await canBind(port)) return undefined;
    if (c.instance.status?.portConflict?.port === port) return { requeueAfterMs: PORT_CONFLICT_RECHECK_MS };
    const message = `port ${port} is in use by another program; waiting to be moved to a new port`;
    c.instance = await this.#setStatus(c.instance, { phase: "Pending", ready: false, message, portConflict: { port, detectedAt: now() } });
    await this.#o.events.record(c.instance, "Warning", "PortInUse", message);
    return { requeueAfterMs: PORT_CONFLICT_RECHECK_MS };
  }

  /** A primary that could be failed over starts only under its lease; undefined when it may start. */
  async #leaseToStart(c: Context): Promise<ReconcileResult | undefined> {
    if (!needsPrimaryLease(c.instance, c.engine)) return undefined;
    const lease = await this.#holdLease(c.instance);
    if (lease.held) {
      this.#watchLease(c);
      return undefined;
    }
    return this.#waitForUpstream(c, `waiting for the primary lease, held by ${lease.holder ?? "another instance"} until it is released or expires`);
  }

  /** Hold the primary lease of `instance` and say so in its status. */
  async #holdLease(instance: Instance): Promise<{ held: true; lease: HeldLease } | { held: false; holder: string | undefined }> {
    const outcome = await this.#leases.hold(instance, await leaseDurationOf(this.#o.store, instance));
    if (!outcome.held) return outcome;
    const holder = primaryLeaseHolder(this.#o.nodeName, instance);
    if (instance.status?.primaryLease?.holder !== holder) await this.#setStatus(instance, { primaryLease: { name: outcome.lease.name, holder, acquiredAt: now() } });
    return outcome;
  }

  /** Remember how to fence this primary without the store, should its lease be lost. */
  #watchLease(c: Context): void {
    const replication = replicationOf(c.instance, c.engine);
    if (replication === undefined) return;
    const { ctx, host } = c;
    this.#leased.set(keyOf(c.instance), async () => {
      await replication.fence(ctx, host);
    });
  }

  /**
   * The lease of a primary on this node is about to expire or was taken: fence it now, without the store (it may be
   * out of reach). The next pass finds the process gone and holds it stopped, as after any exit of a primary.
   */
  async #fenceForLostLease(key: string): Promise<void> {
    const fence = this.#leased.get(key);
    this.#leased.delete(key);
    try {
      await fence?.();
      this.#o.logger?.warn(`${key}: fenced (its primary lease was lost)`);
    } catch (error) {
      this.#o.logger?.error(`${key}: could not fence after losing its primary lease: ${errorMessage(error)}`);
    }
  }

  /**
   * Give the primary lease up (the process stopped), so another instance is promoted without waiting for expiry;
   * `writeStatus` false when the caller clears `status.primaryLease` in its own status write.
   */
  async #releaseLease(c: Context, writeStatus = true): Promise<void> {
    this.#leased.delete(keyOf(c.instance));
    await this.#leases.release(c.instance);
    if (writeStatus && c.instance.status?.primaryLease !== undefined) c.instance = await this.#setStatus(c.instance, { primaryLease: undefined });
  }

  /** A running primary keeps its lease; one that cannot (another instance holds it) is fenced at once. */
  async #keepLease(c: Context): Promise<boolean> {
    if (!needsPrimaryLease(c.instance, c.engine)) {
      if (this.#leases.holds(c.instance)) await this.#releaseLease(c);
      return true;
    }
    if (this.#leases.holds(c.instance)) {
      this.#watchLease(c);
      return true;
    }
    const lease = await this.#holdLease(c.instance);
    if (lease.held) {
      this.#watchLease(c);
      return true;
    }
    const replication = replicationOf(c.instance, c.engine);
    if (replication !== undefined) await replication.fence(c.ctx, c.host);
    await this.#recordOnClusterToo(c, "Warning", "LeaseLost", `runs as primary but ${lease.holder ?? "another instance"} holds the primary lease: fenced`);
    return false;
  }

  /** A replica cannot start before its upstream runs as primary: wait without counting a failure. */
  async #waitForUpstream(c: Context, message: string): Promise<ReconcileResult> {
    if (c.instance.status?.message !== message) c.instance = await this.#setStatus(c.instance, { phase: "Pending", ready: false, message });
    return { requeueAfterMs: 500 };
  }

  /**
   * A primary with replicas does not restart after a crash: it is held stopped (status.replicationState.heldSince; the
   * spec is the ha controller's alone), and the ha controller fails over (fencing it) or restarts it in place.
   */
  async #fenceAfterExit(c: Context, message: string): Promise<ReconcileResult | undefined> {
    const live = c.instance;
    this.#replication.forget(live);
    // The lease goes first (another instance may be promoted without waiting); its status goes with the rest, in one write.
    await this.#releaseLease(c, false);
    c.instance = await this.#setStatus(c.instance, {
      primaryLease: undefined,
      pid: undefined,
      processStartTicks: undefined,
      ready: false,
      role: undefined,
      lastTerminatedAt: now(),
      restartCount: (live.status?.restartCount ?? 0) + 1,
      phase: "Stopped",
      message: `${message}; held stopped until the ha controller fails over or restarts it`,
      replicationState: { heldSince: now(), observedAt: now() },
    });
    await this.#recordOnClusterToo(c, "Warning", "Fenced", `${message}; held stopped instead of restarted: it was the primary and replicas can take over`);
    return undefined;
  }

  /** Initialisation failed: report it and retry after a growing delay (the status write must not retry at once). */
  async #initFailed(c: Context, reason: string): Promise<ReconcileResult> {
    const failures = (c.instance.status?.consecutiveFailures ?? 0) + 1;
    const delay = Math.max(1000, restartDelayMs(failures));
    const message = `initialisation failed: ${reason}`;
    c.instance = await this.#setStatus(c.instance, { phase: "Failed", message, consecutiveFailures: failures, backoffUntil: new Date(Date.now() + delay).toISOString() });
    await this.#recordOnClusterToo(c, "Warning", "InitFailed", `${message}; retrying in ${delay} ms`);
    return { requeueAfterMs: delay };
  }

  /** The process runs: probe readiness and role, not more often than needed, and tend its replication. */
  async #observe(c: Context, running: ProcessHandle): Promise<ReconcileResult> {
    const name = c.instance.metadata.name;
    if (!(await this.#keepLease(c))) return { requeueAfterMs: FIRST_PROBE_MS };
    // A replicated instance's role is reported by its replication probe (replication-agent.ts), a changed role included.
    const due = c.instance.status?.ready !== true || Date.now() - (this.#lastProbe.get(name) ?? 0) >= READINESS_EVERY_MS;
    if (c.instance.status?.ready === true) await this.#tendPasswords(c);
    if (c.instance.status?.ready === true) await this.#tendStorage(c);
    if (c.instance.status?.ready === true) await this.#tendUsers(c);
    await this.#tendCustomAction(c);
    const readinessMs = due ? await this.#probeReadiness(c, running) : LIVENESS_POLL_MS;
    // Nothing asks a server whose start is not finished (it admits no TCP client): its role waits for that.
    if (!this.#isStartFinished(c, running)) return { requeueAfterMs: readinessMs };
    // A server that just did not answer its readiness probe counts as a replication probe unanswered (a hung primary fails over).
    const replicationMs = await this.#tendReplication(c, due && c.instance.status?.ready !== true);
    await this.#noticeStranded(c);
    const storageMs = c.instance.status?.ready === true ? this.#storage.dueInMs(c.instance) : LIVENESS_POLL_MS;
    return { requeueAfterMs: Math.max(FIRST_PROBE_MS, Math.min(readinessMs, replicationMs, storageMs)) };
  }

  /** Rotations of the component's passwords under way (password-rotation.ts): before probing, which may use the next one. */
  async #tendPasswords(c: Context): Promise<void> {
    try {
      c.instance = await tendPasswords({ instance: c.instance, engine: c.engine, context: c.ctx, host: c.host, trust: instanceTrust(this.#o.paths, c.instance) }, this.#o.store, async (changes) => (c.instance = await this.#setStatus(c.instance, changes)));
    } catch (error) {
      await this.#o.events.record(c.instance, "Warning", "PasswordRotationFailed", `password rotation not applied yet, retrying: ${errorMessage(error)}`);
    }
  }

  /** Storage against the quota, and writes protected at it (storage-watch.ts); a failure is reported and retried. */
  async #tendStorage(c: Context): Promise<void> {
    if (!this.#storage.claim(c.instance)) return;
    const [admin] = await readAccounts(this.#o.store, c.instance, c.engine);
    if (admin === undefined) return;
    try {
      await this.#storage.tend({ instance: c.instance, engine: c.engine, context: c.ctx, host: c.host, admin }, this.#reporter(c));
    } catch (error) {
      await this.#o.events.record(c.instance, "Warning", "StorageCheckFailed", `storage quota not checked, retrying: ${errorMessage(error)}`);
    }
  }

  /**
   * Managed users of the component (managed-users.ts): after the rotations, whose confirmed generations they use; then
   * its managed databases, which users may own.
   */
  async #tendUsers(c: Context): Promise<void> {
    try {
      c.instance = await tendManagedUsers({ instance: c.instance, engine: c.engine, context: c.ctx, trust: instanceTrust(this.#o.paths, c.instance) }, this.#o.store, this.#o.events, async (managedUsers) => (c.instance = await this.#setStatus(c.instance, { managedUsers })));
    } catch (error) {
      await this.#o.events.record(c.instance, "Warning", "ManagedUsersFailed", `managed users not applied yet, retrying: ${errorMessage(error)}`);
    }
    await this.#tendDatabases(c);
  }

  /** Managed databases of the component (managed-databases.ts): after the users, which may own them. */
  async #tendDatabases(c: Context): Promise<void> {
    try {
      c.instance = await tendManagedDatabases({ instance: c.instance, engine: c.engine, context: c.ctx, trust: instanceTrust(this.#o.paths, c.instance) }, this.#o.store, this.#o.events, async (managedDatabases) => (c.instance = await this.#setStatus(c.instance, { managedDatabases })));
    } catch (error) {
      await this.#o.events.record(c.instance, "Warning", "ManagedDatabasesFailed", `managed databases not applied yet, retrying: ${errorMessage(error)}`);
    }
  }

  /** The engine actions a Custom OpsRequest asks of the instance (custom-action.ts), started in the background. */
  async #tendCustomAction(c: Context): Promise<void> {
    if (c.instance.status?.ready !== true || !this.#actions.due(c.instance)) return;
    const [admin] = await readAccounts(this.#o.store, c.instance, c.engine);
    if (admin === undefined) return;
    const ref = { kind: "Instance", namespace: c.instance.metadata.namespace ?? "default", name: c.instance.metadata.name };
    const uid = c.instance.metadata.uid;
    await this.#actions.tend({ instance: c.instance, engine: c.engine, context: c.ctx, admin }, {
      setStatus: async (customAction) => {
        // Written from the background too: onto the latest version of the same instance.
        const latest = await this.#o.store.get<Instance>(ref);
        if (latest !== undefined && latest.metadata.uid === uid) c.instance = await this.#setStatus(latest, { customAction });
      },
      record: (type, reason, message) => this.#recordOnClusterToo(c, type, reason, message),
    });
  }

  /** Readiness and role of the running process; when to look again (ms). */
  async #probeReadiness(c: Context, running: ProcessHandle): Promise<number> {
    const status = c.instance.status ?? {};
    this.#lastProbe.set(c.instance.metadata.name, Date.now());
    const [admin] = await readAccounts(this.#o.store, c.instance, c.engine);
    if (!(await this.#finishStart(c, running))) return startingPollMs(status.startedAt);
    const { ready, role } = await this.#askServer(c, admin);
    const next: Partial<InstanceStatus> = { pid: running.pid, processStartTicks: running.startTicks, ready, phase: ready ? "Running" : "Starting", ...(role === undefined ? {} : { role }) };
    if (ready) Object.assign(next, { message: undefined, backoffUntil: undefined });
    // The status first: the ha controller routes the endpoints on it, the event can follow.
    c.instance = await this.#setStatus(c.instance, next);
    if (ready && status.ready !== true) await this.#o.events.record(c.instance, "Normal", "Ready", `accepting connections on ${instanceHost(c.instance)}:${c.ctx.port}`);
    if (admin !== undefined && ready) {
      await this.#allowPeers(c, admin);
      await this.#ensureAccounts(c, running.pid);
      await this.#certificates.refresh({ instance: c.instance, engine: c.engine, context: c.ctx, host: c.host, admin });
    }
    return ready ? LIVENESS_POLL_MS : startingPollMs(status.startedAt);
  }

  /**
   * Is the server ready, and in which role: one session (TLS, authentication, a query; 0.1–0.25 s each on a server that
   * has just started, under load) answers both when the server tells its role, which only a ready server does. When it
   * does not, readiness is asked on its own, and a server found ready (it may have become so since) is asked its role
   * again, so that Ready is never written without the role the endpoints are routed by.
   */
  async #askServer(c: Context, admin: Credentials | undefined): Promise<{ ready: boolean; role: string | undefined }> {
    if (admin === undefined) return { ready: false, role: undefined };
    const trust = instanceTrust(this.#o.paths, c.instance);
    const role = await c.engine.probeRole(c.ctx.port, admin, trust);
    if (role !== undefined) return { ready: true, role };
    if (!(await c.engine.probeReady(c.ctx.port, admin, trust))) return { ready: false, role: undefined };
    return { ready: true, role: await c.engine.probeRole(c.ctx.port, admin, trust) };
  }

  /**
   * Once per start of the server, before any probe: what its start left to finish (Engine.finishStart; a restored
   * PostgreSQL's passwords). False while it is not finished: the server is not probed, and the reason is in status.
   */
  async #finishStart(c: Context, running: ProcessHandle): Promise<boolean> {
    if (this.#isStartFinished(c, running) || c.engine.finishStart === undefined) return true;
    const name = c.instance.metadata.name;
    try {
      // The normal access rules it may write name the component's instances, as a start's do (#placeOnNode). They
      // are not recorded as allowed here: the engine writes them only when it had something to finish, and the
      // peers that joined since the start must still reach the server (#allowPeers, once it is ready).
      const peerAddresses = await componentAddresses(this.#o.store, c.instance);
      await c.engine.finishStart({ ...c.ctx, address: this.#o.address, peerAddresses }, await readAccounts(this.#o.store, c.instance, c.engine), c.host);
    } catch (error) {
      c.instance = await this.#setStatus(c.instance, { phase: "Starting", ready: false, message: `finishing its start: ${errorMessage(error)}` });
      return false;
    }
    this.#startFinished.set(name, running.pid);
    return true;
  }

  #isStartFinished(c: Context, running: ProcessHandle): boolean {
    return c.engine.finishStart === undefined || this.#startFinished.get(c.instance.metadata.name) === running.pid;
  }

  /** Once per start of the server: the system accounts it lacks (added to the engine since its data directory was made); a failure is said and retried. */
  async #ensureAccounts(c: Context, pid: number): Promise<void> {
    if (c.engine.ensureAccounts === undefined || this.#accountsEnsured.get(c.instance.metadata.name) === pid) return;
    try {
      await c.engine.ensureAccounts(c.ctx, await readAccounts(this.#o.store, c.instance, c.engine));
      this.#accountsEnsured.set(c.instance.metadata.name, pid);
    } catch (error) {
      await this.#o.events.record(c.instance, "Warning", "AccountsNotEnsured", `system accounts not set up yet, retrying: ${errorMessage(error)}`);
    }
  }

  /** A replica placed on another node since the start: let the running server accept replication from its address. */
  async #allowPeers(c: Context, admin: Credentials): Promise<void> {
    if (c.engine.allowPeers === undefined || c.instance.spec.replication === undefined) return;
    const peerAddresses = await componentAddresses(this.#o.store, c.instance);
    const key = peerAddresses.join(",");
    if (this.#peers.get(c.instance.metadata.name) === key) return;
    await c.engine.allowPeers({ ...c.ctx, address: this.#o.address, peerAddresses }, admin, c.host);
    this.#peers.set(c.instance.metadata.name, key);
    await this.#o.events.record(c.instance, "Normal", "PeersChanged", `accepting replication from ${key}`);
  }

  /**
   * A running instance of a replicated component: what its spec asks of replication, and its probe
   * (replication-agent.ts); a running arbiter: what it says, and the request made of it (arbiter-agent.ts).
   */
  async #tendReplication(c: Context, unanswered: boolean): Promise<number> {
    const reporter = this.#reporter(c);
    const replication = replicationOf(c.instance, c.engine);
    if (replication === undefined) return (await this.#arbiters.tend(c.instance, c.engine, reporter)) ?? LIVENESS_POLL_MS;
    const replicated = { instance: c.instance, engine: c.engine, replication, context: c.ctx, host: c.host };
    return this.#replication.tend(replicated, unanswered, reporter);
  }

  /** How a helper writes the status of the instance being reconciled and records events on it and its cluster. */
  #reporter(c: Context): ReplicationReporter {
    return {
      setStatus: async (changes) => (c.instance = await this.#setStatus(c.instance, changes)),
      record: (type, reason, message) => this.#recordOnClusterToo(c, type, reason, message),
    };
  }

  async #finalize(c: Context): Promise<ReconcileResult | undefined> {
    // A restore in progress stops first (cancel = delete the restoring cluster): its partial data goes below.
    await this.#restores?.cancel(c.instance.metadata.uid ?? c.instance.metadata.name);
    const running = await this.#findProcess(c);
    if (running) await this.#stopProcess(c, running);
    await this.#releaseLease(c);
    if (c.instance.spec.deleteData) {
      await removeInstanceDirectory(c.ctx.rootDirectory, this.#o.paths.instancesDir);
      await rm(c.logFile, { force: true });
    }
    const finalizers = (c.instance.metadata.finalizers ?? []).filter((f) => f !== INSTANCE_FINALIZER);
    await this.#o.store.update<Instance>({ ...c.instance, metadata: { ...c.instance.metadata, finalizers } });
    this.#lastProbe.delete(c.instance.metadata.name);
    this.#peers.delete(c.instance.metadata.name);
    this.#startFinished.delete(c.instance.metadata.name);
    this.#stranded.delete(keyOf(c.instance));
    this.#strandCheckedAt.delete(keyOf(c.instance));
    this.#certificates.forget(c.instance);
    this.#storage.forget(c.instance);
    this.#replicaSettings.forget(c.instance);
    return undefined;
  }

  async #recordOnClusterToo(c: Context, type: "Normal" | "Warning", reason: string, message: string): Promise<void> {
    await this.#o.events.record(c.instance, type, reason, message);
    const owner = c.instance.metadata.ownerReferences?.find((o) => o.kind === "Cluster");
    if (!owner) return;
    const cluster = await this.#o.store.get({ kind: "Cluster", namespace: c.instance.metadata.namespace ?? "default", name: owner.name });
    if (cluster) await this.#o.events.record(cluster, type, reason, `instance ${c.instance.metadata.name}: ${message}`);
  }

  /** Write status changes (undefined removes a field); skipped when nothing changes. */
  async #setStatus(instance: Instance, changes: Partial<Record<keyof InstanceStatus, unknown>>): Promise<Instance> {
    // observedGeneration is the spec this pass acted on, even when the write is retried on a newer object.
    const observedGeneration = instance.metadata.generation;
    let current = instance;
    for (let attempt = 1; ; attempt++) {
      const entries = Object.entries({ ...current.status, observedGeneration, ...changes });
      const merged = Object.fromEntries(entries.filter(([, value]) => value !== undefined)) as InstanceStatus;
      if (JSON.stringify(merged) === JSON.stringify(current.status)) return current;
      try {
        return await this.#o.store.updateStatus<Instance>({ ...current, status: merged });
      } catch (error) {
        // Another writer (the ha controller's labels and lag) came first: apply these changes to its version,
        // rather than fail halfway through a start and lose track of the process just spawned.
        const latest = error instanceof ConflictError && attempt < 5 ? await this.#o.store.get<Instance>({ kind: "Instance", namespace: instance.metadata.namespace ?? "default", name: instance.metadata.name }) : undefined;
        if (latest === undefined || latest.metadata.uid !== instance.metadata.uid) throw error;
        current = latest;
      }
    }
  }
}

/** A fifth of the time since the start, between FIRST_PROBE_MS and STARTING_POLL_MAX_MS. */
function startingPollMs(startedAt: string | undefined): number {
  const elapsed = startedAt === undefined ? STARTING_POLL_MAX_MS : Date.now() - Date.parse(startedAt);
  return Math.min(STARTING_POLL_MAX_MS, Math.max(FIRST_PROBE_MS, Math.round(elapsed / 5)));
}

/** The engine could not initialise the data directory. */
class InitializationError extends Error {}

function restartRequested(instance: Instance): boolean {
  const wanted = instance.spec.restartRequest;
  return wanted !== undefined && wanted !== instance.status?.appliedRestartRequest;
}

function keyOf(instance: Instance): string {
  return `${instance.metadata.namespace ?? "default"}/${instance.metadata.name}`;
}

function lastLines(text: string, count: number): string {
  return text.trim().split("\n").slice(-count).join(" | ");
}
