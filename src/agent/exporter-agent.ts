/**
 * The node agent's exporters (ADR 0035): beside each instance bound to this node, the engine's Prometheus exporter runs
 * as the instance's OS user, like a sidecar. The agent starts it once the database has started, keeps it running while
 * the database is down (it reports that), restarts it when it exits, re-adopts it after a control-plane restart
 * (pid and start time in status.exporter), sets up the monitoring account after each start of the database, and stops
 * it when the instance stops, is deleted or says disableExporter. Its port is reserved host-wide like a database's.
 */
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { now, passwordGeneration, pendingPassword, secretValue, type ExporterStatus, type Instance } from "../api/index.ts";
import { EXPORTER_PORT_RANGE, type HomePaths } from "../config/index.ts";
import { ConflictError, NotFoundError, errorMessage } from "../errors/index.ts";
import type { Credentials, Engine, EngineExporter } from "../engines/index.ts";
import type { EngineLookup } from "../controllers/cluster/index.ts";
import { keyOf, splitKey, type EventRecorder, type ReconcileResult, type Reconciler } from "../controllers/runtime/index.ts";
import { accepts, type InstanceUsers, type PortReservations, type ProcessHandle, type ProcessSupervisor } from "../runtime/index.ts";
import type { Store } from "../store/index.ts";
import type { Logger } from "../util/index.ts";
import { readAccountSecret, readAccounts } from "./accounts.ts";
import { EXPORTER_FINALIZER, exporterStep, type ExporterStep } from "./exporter-plan.ts";
import { instanceContext } from "./instance-context.ts";
import { instanceTrust } from "./instance-tls.ts";
import { exporterLogFile } from "./layout.ts";

/** How often a running exporter is looked at (an exit also wakes its instance at once). */
const LIVENESS_MS = 5000;
/** How soon to try again when the database or the account's Secret is not there yet. */
const WAIT_MS = 2000;
const STOP = { signal: "SIGTERM" as const, timeoutMs: 5000 };
/** How long an exporter has to start listening (it has read its password file by then) before the file is removed anyway. */
const READ_WAIT_MS = 10_000;

/** What the exporters need. */
export interface ExporterAgentOptions {
  store: Store;
  engines: EngineLookup;
  supervisor: ProcessSupervisor;
  users: InstanceUsers;
  paths: HomePaths;
  ports: PortReservations;
  events: EventRecorder;
  nodeName: string;
  /** The node's address: exporters listen on it (databaseAddress). */
  address: string;
  logger: Logger;
}

/** Keeps one exporter per instance of this node running as its plan says (exporter-plan.ts). */
export class ExporterAgent implements Reconciler {
  readonly #o: ExporterAgentOptions;
  /** Ports handed out by this process and not yet in a status, so two exporters never get one port. */
  readonly #handed = new Set<number>();
  /** The exporters this process runs or re-adopted, by instance key: stopped even once their instance moved away or is gone. */
  readonly #known = new Map<string, ProcessHandle>();
  #portLock: Promise<unknown> = Promise.resolve();

  constructor(options: ExporterAgentOptions) {
    this.#o = options;
  }

  async reconcile(key: string): Promise<ReconcileResult | undefined> {
    const { namespace = "default", name } = splitKey(key);
    const instance = await this.#o.store.get<Instance>({ kind: "Instance", namespace, name });
    if (instance?.spec.nodeName !== this.#o.nodeName) return this.#letGo(key);
    const engine = this.#o.engines.find(instance.spec.engine);
    let running = await this.#running(instance);
    if (running !== undefined && engine?.exporter !== undefined && (await this.#rotated(instance, running, engine.exporter))) running = undefined;
    if (running === undefined) this.#known.delete(key);
    else this.#known.set(key, running);
    const step = exporterStep(instance, engine?.exporter !== undefined, running !== undefined);
    if (step.kind === "stop") return this.#stop(instance, running);
    if (step.kind === "wait" || engine?.exporter === undefined) return { requeueAfterMs: WAIT_MS };
    return this.#carryOut(step, instance, engine, engine.exporter);
  }

  #carryOut(step: ExporterStep, instance: Instance, engine: Engine, exporter: EngineExporter): Promise<ReconcileResult> {
    if (step.kind === "start") return this.#start(instance, engine, exporter);
    if (step.kind === "account") return this.#setUpAccount(instance, engine, exporter);
    return Promise.resolve({ requeueAfterMs: LIVENESS_MS });
  }

  /** An instance gone, or rebuilt on another node: stop the exporter this node still runs for it. */
  async #letGo(key: string): Promise<undefined> {
    const handle = this.#known.get(key);
    this.#known.delete(key);
    if (handle !== undefined) await this.#o.supervisor.stop(handle.pid, handle.startTicks, STOP);
    return undefined;
  }

  /** The exporter process recorded in status, if it still runs. */
  async #running(instance: Instance): Promise<ProcessHandle | undefined> {
    const { pid, processStartTicks } = instance.status?.exporter ?? {};
    if (pid === undefined || processStartTicks === undefined) return undefined;
    return (await this.#o.supervisor.isRunning(pid, processStartTicks)) ? { pid, startTicks: processStartTicks } : undefined;
  }

  async #stop(instance: Instance, running: ProcessHandle | undefined): Promise<undefined> {
    if (running !== undefined) await this.#o.supervisor.stop(running.pid, running.startTicks, STOP);
    this.#known.delete(keyOf(instance));
    let current = instance;
    if (instance.status?.exporter !== undefined && instance.metadata.deletionTimestamp === undefined) current = await this.#setExporter(instance, undefined);
    if ((current.metadata.finalizers ?? []).includes(EXPORTER_FINALIZER)) await this.#holdInstance(current, false);
    if (running !== undefined) await this.#o.events.record(instance, "Normal", "ExporterStopped", `metrics exporter stopped (pid ${running.pid})`);
    return undefined;
  }

  async #start(instance: Instance, engine: Engine, exporter: EngineExporter): Promise<ReconcileResult> {
    const monitor = await this.#monitorAccount(instance, exporter);
    if (monitor === undefined) return { requeueAfterMs: WAIT_MS };
    const { account, generation } = monitor;
    let current = instance;
    if (!(current.metadata.finalizers ?? []).includes(EXPORTER_FINALIZER)) current = await this.#holdInstance(current, true);
    const port = current.status?.exporter?.port ?? (await this.#allocatePort());
    const context = await instanceContext(this.#o.paths, this.#o.engines, engine, current);
    const passwordFile = join(context.runDirectory, "exporter.secret");
    const { command, passwordFileContent } = exporter.command(context, { listen: `${listenHost(this.#o.address)}:${port}`, account, passwordFile });
    const [user, host] = await Promise.all([this.#o.users.userOf(current), this.#o.users.hostOf(current)]);
    await host.writeFile(passwordFile, passwordFileContent, 0o600);
    const logFile = exporterLogFile(this.#o.paths, current);
    let handle: ProcessHandle;
    try {
      handle = await this.#o.supervisor.spawn({ command, user, logFile, cwd: context.rootDirectory });
      // The exporter reads the file as it starts, before it listens: then the password leaves the disk.
      await listening(listenHost(this.#o.address), port, READ_WAIT_MS);
    } finally {
      await rm(passwordFile, { force: true });
    }
    this.#known.set(keyOf(current), handle);
    this.#handed.delete(port);
    const status: ExporterStatus = { port, pid: handle.pid, processStartTicks: handle.startTicks, startedAt: now(), accountGeneration: generation };
    current = await this.#setExporter(current, status);
    await this.#o.events.record(current, "Normal", "ExporterStarted", `metrics exporter started: pid ${handle.pid}, ${listenHost(this.#o.address)}:${port}/metrics`);
    return current.status?.ready === true ? this.#setUpAccount(current, engine, exporter) : { requeueAfterMs: WAIT_MS };
  }

  /** Create or refresh the monitoring account for this start of the database; a failure is said in status and retried. */
  async #setUpAccount(instance: Instance, engine: Engine, exporter: EngineExporter): Promise<ReconcileResult> {
    const account = (await this.#monitorAccount(instance, exporter))?.account;
    const current = instance.status?.exporter;
    if (account === undefined || current === undefined) return { requeueAfterMs: WAIT_MS };
    const startedAt = instance.status?.startedAt;
    try {
      const [admin] = await readAccounts(this.#o.store, instance, engine);
      if (admin === undefined) return { requeueAfterMs: WAIT_MS };
      const context = await instanceContext(this.#o.paths, this.#o.engines, engine, instance);
      await exporter.ensureAccount(context, admin, account, instanceTrust(this.#o.paths, instance));
    } catch (error) {
      await this.#setExporter(instance, { ...current, message: `monitoring account not set up: ${errorMessage(error)}` });
      return { requeueAfterMs: WAIT_MS };
    }
    const { message: _message, ...rest } = current;
    await this.#setExporter(instance, { ...rest, ...(startedAt === undefined ? {} : { accountFor: startedAt }) });
    return { requeueAfterMs: LIVENESS_MS };
  }

  /**
   * The monitoring account's credentials and their generation, from the Secret the cluster controller made; undefined
   * until it exists, and while its password is being rotated (ADR 0038): the exporter keeps the one it started with.
   */
  async #monitorAccount(instance: Instance, exporter: EngineExporter): Promise<{ account: Credentials; generation: number } | undefined> {
    const secret = await readAccountSecret(this.#o.store, instance, exporter.account.name);
    const password = secretValue(secret, "password");
    if (secret === undefined || password === undefined || pendingPassword(secret) !== undefined) return undefined;
    return { account: { username: exporter.account.name, password }, generation: passwordGeneration(secret) };
  }

  /** A running exporter started with a password since rotated: stopped, so the next pass starts it with the new one. */
  async #rotated(instance: Instance, running: ProcessHandle, exporter: EngineExporter): Promise<boolean> {
    const monitor = await this.#monitorAccount(instance, exporter);
    const started = instance.status?.exporter?.accountGeneration ?? 0;
    if (monitor === undefined || monitor.generation === started) return false;
    await this.#o.supervisor.stop(running.pid, running.startTicks, STOP);
    await this.#o.events.record(instance, "Normal", "ExporterRestarted", "metrics exporter restarted: its account's password was rotated");
    return true;
  }

  /** A port in the exporters' range that no exporter of this node records and no other home holds. */
  async #allocatePort(): Promise<number> {
    const run = this.#portLock.then(async () => {
      const instances = await this.#o.store.list<Instance>("Instance");
      const recorded = instances.items.flatMap((i) => (i.spec.nodeName === this.#o.nodeName && i.status?.exporter?.port !== undefined ? [i.status.exporter.port] : []));
      const port = await this.#o.ports.allocate(EXPORTER_PORT_RANGE, new Set([...recorded, ...this.#handed]));
      this.#handed.add(port);
      return port;
    });
    this.#portLock = run.catch(() => undefined);
    return run;
  }

  /** Hold (or release) the instance with the exporter's finalizer, on its latest version. */
  async #holdInstance(instance: Instance, hold: boolean): Promise<Instance> {
    return this.#retrying(instance, (current) => {
      const others = (current.metadata.finalizers ?? []).filter((f) => f !== EXPORTER_FINALIZER);
      return this.#o.store.update<Instance>({ ...current, metadata: { ...current.metadata, finalizers: hold ? [...others, EXPORTER_FINALIZER] : others } });
    });
  }

  /** Write status.exporter alone (undefined removes it), on the latest version when another writer came first. */
  async #setExporter(instance: Instance, exporter: ExporterStatus | undefined): Promise<Instance> {
    return this.#retrying(instance, (current) => {
      const { exporter: _old, ...others } = current.status ?? {};
      return this.#o.store.updateStatus<Instance>({ ...current, status: exporter === undefined ? others : { ...others, exporter } });
    });
  }

  async #retrying(instance: Instance, write: (current: Instance) => Promise<Instance>): Promise<Instance> {
    let current = instance;
    for (let attempt = 1; ; attempt++) {
      try {
        return await write(current);
      } catch (error) {
        if (!(error instanceof ConflictError) || attempt >= 5) throw error;
        const latest = await this.#o.store.get<Instance>({ kind: "Instance", namespace: instance.metadata.namespace ?? "default", name: instance.metadata.name });
        if (latest === undefined || latest.metadata.uid !== instance.metadata.uid) throw new NotFoundError(`instance ${instance.metadata.name} is gone`);
        current = latest;
      }
    }
  }
}

/** Resolves once `host:port` accepts a connection, or after `timeoutMs` (whatever came first). */
async function listening(host: string, port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await accepts(host.replace(/^\[(.*)\]$/, "$1"), port)) return;
    await sleep(50);
  }
}

function listenHost(address: string): string {
  return address.includes(":") ? `[${address}]` : address;
}
