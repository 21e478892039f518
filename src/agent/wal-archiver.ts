/**
 * The WAL archiver of the node agent: continuous backups (PostgreSQL's `archive-wal`) as far as the instances bound to
 * this node go. The backup controller hands a continuous Backup to the node of the component's primary
 * (status.source); that node's agent checks the server archives, turns handing over on and reports status.run Running
 * with the moment it did (or Failed with why not). From then on, on every pass (every 2 s), each node's agent keeps
 * handing over on for the component's instances on its node (a new instance, or a new primary after a failover, too)
 * and moves their finished files into the repository; it turns handing over off, and drops the spool, on every
 * instance no archiving Backup covers. When such a Backup is deleted, the agent that ran it reports status.run Stopped
 * once handing over is off, and the controller then deletes the archive. The controller reads the archive and reports
 * the covered range (src/controllers/backup/continuous-backups.ts). A pass covers the whole node, under one key.
 */
import { now, type Backup, type BackupPolicy, type BackupRun, type Instance } from "../api/index.ts";
import type { BackupKeyring } from "../backup/index.ts";
import { backupCredentials, continuousMethodsOf, isArchiving, logArchivePrefix, repositoryOf, type LogArchive } from "../dataprotection/index.ts";
import type { ContinuousArchiving } from "../engines/index.ts";
import type { Store } from "../store/index.ts";
import type { ReconcileResult, Reconciler } from "../controllers/runtime/index.ts";
import { instanceLayout } from "./layout.ts";
import { boundHere, localInstance, type LocalInstanceDeps } from "./local-instance.ts";
import { disableHandOver, drainSpool, enableHandOver, FILES_PER_PASS, type Spool } from "./wal-spool.ts";

/** The key every Backup and Instance change of the node is reconciled under: one pass covers them all. */
export const WAL_ARCHIVER_KEY = "wal-archiver";
/** How often spools are looked at while something is archived: with archive_timeout 60 s, a commit is in the repository within about a minute. */
export const WAL_PASS_MS = 2000;

/** What the archiver needs. */
export interface WalArchiverOptions extends LocalInstanceDeps {
  store: Store;
  /** Wraps the data keys of the archived files. */
  keyring: BackupKeyring;
}

/** Moves the log the instances of this node hand over into the archives of the continuous Backups covering them. */
export class WalArchiver implements Reconciler {
  readonly #o: WalArchiverOptions;

  constructor(options: WalArchiverOptions) {
    this.#o = options;
  }

  async reconcile(): Promise<ReconcileResult | undefined> {
    const methods = continuousMethodsOf(this.#o.engines.list());
    const backups = (await this.#o.store.list<Backup>("Backup")).items.filter((backup) => methods.has(backup.spec.backupMethod));
    const instances = (await this.#o.store.list<Instance>("Instance")).items.filter((instance) => boundHere(instance, this.#o.nodeName) && instance.metadata.deletionTimestamp === undefined);
    const archiving: Backup[] = [];
    for (const backup of backups.filter(isArchiving)) {
      const begun = backup.status?.run === undefined ? await this.#begin(backup, instances) : backup;
      if (begun.status?.run?.state === "Running") archiving.push(begun);
    }
    const moved = await this.#handOver(archiving, instances);
    await this.#acknowledgeStops(backups);
    if (archiving.length === 0) return undefined;
    return { requeueAfterMs: moved >= FILES_PER_PASS ? 0 : WAL_PASS_MS };
  }

  /** A Backup handed to a primary of this node: check its server archives, turn handing over on, report. */
  async #begin(backup: Backup, instances: readonly Instance[]): Promise<Backup> {
    const primary = instances.find((instance) => instance.metadata.namespace === backup.metadata.namespace && instance.metadata.name === backup.status?.source?.instance);
    if (primary === undefined) return backup;
    const problem = await this.#problem(backup, primary);
    if (problem !== undefined) return this.#setRun(backup, { state: "Failed", startedAt: now(), finishedAt: now(), reason: problem });
    const continuous = this.#continuousOf(primary, backup.spec.backupMethod);
    for (const instance of instances.filter((candidate) => covers(backup, candidate))) if (continuous !== undefined) await enableHandOver(continuous, await this.#spool(instance));
    // From this moment on the primary hands its finished files over: the start of what the archive covers.
    return this.#setRun(backup, { state: "Running", startedAt: now() });
  }

  /** Why the primary's server does not archive into its spool (e.g. it needs a restart), or undefined when it does. */
  async #problem(backup: Backup, primary: Instance): Promise<string | undefined> {
    const local = await localInstance(this.#o, primary);
    if ("problem" in local) return local.problem;
    const continuous = this.#continuousOf(primary, backup.spec.backupMethod);
    if (continuous === undefined) return `${primary.spec.engine} has no continuous backup method ${backup.spec.backupMethod}`;
    const namespace = backup.metadata.namespace ?? "default";
    const policy = await this.#o.store.get<BackupPolicy>({ kind: "BackupPolicy", namespace, name: backup.spec.backupPolicyName });
    if (policy === undefined) return `BackupPolicy ${backup.spec.backupPolicyName} was deleted before archiving began`;
    const account = await backupCredentials(this.#o.store, policy, namespace);
    if ("problem" in account) return account.problem;
    return continuous.problem(local.context, account);
  }

  /** Handing over on, and the spool drained, where an archiving Backup covers the instance; off everywhere else. */
  async #handOver(archiving: readonly Backup[], instances: readonly Instance[]): Promise<number> {
    let moved = 0;
    for (const instance of instances) {
      const backup = archiving.find((candidate) => covers(candidate, instance));
      const continuous = backup === undefined ? undefined : this.#continuousOf(instance, backup.spec.backupMethod);
      if (backup === undefined || continuous === undefined) {
        for (const method of this.#continuousMethods(instance)) await disableHandOver(method, instanceLayout(this.#o.paths, instance));
        continue;
      }
      const spool = await this.#spool(instance);
      await enableHandOver(continuous, spool);
      if (continuous.collect !== undefined) await this.#collect(backup, continuous, spool);
      if (moved < FILES_PER_PASS) moved += await drainSpool(await this.#archive(backup), continuous, spool, FILES_PER_PASS - moved);
    }
    return moved;
  }

  /** Engines whose server hands nothing over: let the engine copy the finished files into the spool, as the backup's account. */
  async #collect(backup: Backup, continuous: ContinuousArchiving, spool: Spool): Promise<void> {
    const namespace = backup.metadata.namespace ?? "default";
    const policy = await this.#o.store.get<BackupPolicy>({ kind: "BackupPolicy", namespace, name: backup.spec.backupPolicyName });
    const account = policy === undefined ? undefined : await backupCredentials(this.#o.store, policy, namespace);
    if (account === undefined || "problem" in account) return;
    await continuous.collect?.(spool.layout, spool.host, account);
  }

  /** Deleted Backups this agent archived for: handing over is off now (#handOver), so say so; the controller deletes the archive. */
  async #acknowledgeStops(backups: readonly Backup[]): Promise<void> {
    for (const backup of backups) {
      const run = backup.status?.run;
      if (backup.metadata.deletionTimestamp === undefined || run?.state !== "Running" || run.node !== this.#o.nodeName) continue;
      await this.#setRun(backup, { state: "Stopped", finishedAt: now() });
    }
  }

  async #spool(instance: Instance): Promise<Spool> {
    return { instance: instance.metadata.name, layout: instanceLayout(this.#o.paths, instance), host: await this.#o.users.hostOf(instance) };
  }

  async #archive(backup: Backup): Promise<LogArchive> {
    return { repository: await repositoryOf(this.#o.store, backup), keyring: this.#o.keyring, prefix: logArchivePrefix(backup), backupUid: backup.metadata.uid ?? "" };
  }

  #continuousMethods(instance: Instance): ContinuousArchiving[] {
    const methods = this.#o.engines.find(instance.spec.engine)?.backupMethods ?? [];
    return methods.flatMap((method) => (method.continuous === undefined ? [] : [method.continuous]));
  }

  #continuousOf(instance: Instance, method: string): ContinuousArchiving | undefined {
    return this.#o.engines.find(instance.spec.engine)?.backupMethods.find((m) => m.name === method)?.continuous;
  }

  async #setRun(backup: Backup, changes: Pick<BackupRun, "state"> & Partial<BackupRun>): Promise<Backup> {
    const run: BackupRun = { startedAt: now(), ...backup.status?.run, node: this.#o.nodeName, ...changes };
    return this.#o.store.updateStatus<Backup>({ ...backup, status: { ...backup.status, run } });
  }
}

/** Does continuous Backup `backup` cover `instance` (same namespace, cluster and component)? */
function covers(backup: Backup, instance: Instance): boolean {
  const source = backup.status?.source;
  return instance.metadata.namespace === backup.metadata.namespace && instance.spec.clusterName === source?.cluster && instance.spec.componentName === source.component;
}
