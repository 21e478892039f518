/**
 * The WAL archiver: runs continuous Backups (KubeBlocks' `Continuous` type, PostgreSQL's `archive-wal`). Such a
 * Backup goes New → Running and stays Running while the log is archived: every pass (every 2 s) moves the files the
 * servers handed to their spools into the repository and advances `status.timeRange.end` to the last time a server
 * wrote an archived file. Files no kept full backup needs are pruned. Deleting the Backup stops the hand-over and,
 * with deletionPolicy Delete, deletes the archived files. See docs/adr/0010-point-in-time-recovery.md.
 */
import { BACKUP_FINALIZER, now, type Backup, type BackupStatus, type Instance } from "../../api/index.ts";
import { basesFor, continuousMethodsOf, deleteLogArchive, logArchivePrefix, repositoryOf, type LogArchive } from "../../dataprotection/index.ts";
import type { ContinuousArchiving } from "../../engines/index.ts";
import { errorMessage, NotFoundError } from "../../errors/index.ts";
import { instanceLayout } from "../../agent/index.ts";
import { withFinalizer, withoutFinalizer, type EventRecorder, type ReconcileResult } from "../runtime/index.ts";
import { BackupRefused, resolveBackup, startedMetadata, type ResolveDeps } from "./resolve.ts";
import { disableHandOver, drainSpools, enableHandOver, FILES_PER_PASS, indexSummary, loadIndex, prune, type ArchiveIndex, type PassContext } from "./wal-archive-pass.ts";

/** How often spools are looked at: with archive_timeout 60 s, a commit is in the repository within about a minute. */
export const ARCHIVE_PASS_MS = 2000;
/** KubeBlocks' label saying a backup is Full or Continuous. */
export const BACKUP_TYPE_LABEL = "dataprotection.kubeblocks.io/backup-type";

/** What the archiver needs. */
export interface WalArchiverOptions extends ResolveDeps {
  events: EventRecorder;
}

/** Runs the continuous Backups the backup controller hands it. */
export class WalArchiver {
  readonly #o: WalArchiverOptions;
  /** What each archive holds, by Backup uid: loaded from the repository once, then kept up to date. */
  readonly #indexes = new Map<string, ArchiveIndex>();

  constructor(options: WalArchiverOptions) {
    this.#o = options;
  }

  /** Is `backup` of a continuous method (this archiver's, not a backup job's)? */
  handles(backup: Backup): boolean {
    return continuousMethodsOf(this.#o.engines.list()).has(backup.spec.backupMethod);
  }

  async reconcile(backup: Backup): Promise<ReconcileResult | undefined> {
    if (backup.metadata.deletionTimestamp !== undefined) return this.#finalize(backup);
    const live = await withFinalizer(this.#o.store, backup, BACKUP_FINALIZER);
    switch (live.status?.phase ?? "New") {
      case "New":
        return this.#begin(live);
      case "Running":
        return this.#pass(live);
      default:
        return undefined;
    }
  }

  /** Check the servers can archive, turn hand-over on, and record Running with the moment archiving began. */
  async #begin(backup: Backup): Promise<ReconcileResult | undefined> {
    let resolved;
    try {
      resolved = await resolveBackup(this.#o, backup);
    } catch (error) {
      if (error instanceof BackupRefused) return this.#fail(backup, error.message);
      throw error;
    }
    const continuous = this.#continuous(backup);
    const { cluster, component } = resolved.target;
    const rival = await this.#rival(backup, cluster, component);
    if (rival !== undefined) return this.#fail(backup, `backup ${rival} already archives the WAL of cluster ${cluster} component ${component}; restore from it, or delete it first`);
    const instances = await this.#instances(backup.metadata.namespace ?? "default", cluster, component);
    const primary = instances.find((entry) => entry.instance.status?.role === "primary" && entry.instance.status.ready === true);
    if (primary === undefined) return this.#fail(backup, `cluster ${cluster} has no ready primary to archive WAL from; back up again once it is Running`);
    const problem = await continuous.problem(primary.layout, resolved.job.account);
    if (problem !== undefined) return this.#fail(backup, problem);
    await enableHandOver({ continuous, instances, users: this.#o.users });
    const labels = { ...startedMetadata(backup, resolved).labels, [BACKUP_TYPE_LABEL]: "Continuous" };
    const live = await this.#o.store.update<Backup>({ ...backup, metadata: { ...startedMetadata(backup, resolved), labels } });
    const started = now();
    const running = await this.#setStatus(live, {
      phase: "Running",
      startTimestamp: started,
      backupRepoName: resolved.repoName,
      path: logArchivePrefix(backup),
      formatVersion: "holdfast-backup/v1",
      backupMethod: { name: backup.spec.backupMethod, snapshotVolumes: false },
      target: { ...resolved.policy.spec.target, selectedTargetPods: instances.map((entry) => entry.instance.metadata.name) },
      source: { cluster, component, instance: primary.instance.metadata.name, engine: resolved.engine, version: resolved.version },
      timeRange: { start: started },
    });
    await this.#o.events.record(running, "Normal", "BackupStarted", `archiving the WAL of cluster ${cluster} into BackupRepo ${resolved.repoName}; point-in-time recovery is possible from the end of the next full backup on`);
    return { requeueAfterMs: 0 };
  }

  /** Move spooled files into the repository, prune, and report what is covered. */
  async #pass(backup: Backup): Promise<ReconcileResult> {
    const namespace = backup.metadata.namespace ?? "default";
    const { cluster = "", component = "" } = backup.status?.source ?? {};
    const context: PassContext = { archive: await this.#archive(backup), continuous: this.#continuous(backup), instances: await this.#instances(namespace, cluster, component), users: this.#o.users };
    const index = await this.#index(backup, context.archive);
    await enableHandOver(context);
    const moved = await drainSpools(context, index);
    const backups = (await this.#o.store.list<Backup>("Backup", { namespace })).items;
    const starts = basesFor(backup, backups, continuousMethodsOf(this.#o.engines.list())).map((base) => Date.parse(base.status?.timeRange?.start ?? ""));
    await prune(context, index, starts.length === 0 ? undefined : Math.min(...starts));
    await this.#report(backup, index);
    return { requeueAfterMs: moved >= FILES_PER_PASS ? 0 : ARCHIVE_PASS_MS };
  }

  async #report(backup: Backup, index: ArchiveIndex): Promise<void> {
    const summary = indexSummary(index);
    const status = backup.status ?? {};
    const timeRange = { ...status.timeRange, ...(summary.end === undefined ? {} : { end: summary.end }) };
    const totalSize = String(summary.bytes);
    if (timeRange.end === status.timeRange?.end && totalSize === status.totalSize) return;
    await this.#setStatus(backup, { timeRange, totalSize, storedSize: String(summary.storedBytes) });
  }

  /** Deleting: stop the hand-over (unless another continuous backup of the component runs), delete the archive, let go. */
  async #finalize(backup: Backup): Promise<ReconcileResult | undefined> {
    if (!(backup.metadata.finalizers ?? []).includes(BACKUP_FINALIZER)) return undefined;
    if (backup.status?.phase === "Running") await this.#stopHandOver(backup);
    if (backup.spec.deletionPolicy === "Delete" && backup.status?.backupRepoName !== undefined) await this.#deleteArchive(backup);
    this.#indexes.delete(backup.metadata.uid ?? "");
    await withoutFinalizer(this.#o.store, backup, BACKUP_FINALIZER);
    return undefined;
  }

  async #stopHandOver(backup: Backup): Promise<void> {
    const { cluster = "", component = "" } = backup.status?.source ?? {};
    if ((await this.#rival(backup, cluster, component)) !== undefined) return;
    const instances = await this.#instances(backup.metadata.namespace ?? "default", cluster, component);
    await disableHandOver(this.#continuous(backup), instances.map((entry) => entry.layout));
  }

  async #deleteArchive(backup: Backup): Promise<void> {
    try {
      await deleteLogArchive(await this.#archive(backup));
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
      await this.#o.events.record(backup, "Warning", "BackupDataKept", `the archived WAL of this backup could not be deleted: ${errorMessage(error)}`);
    }
  }

  async #fail(backup: Backup, reason: string): Promise<undefined> {
    const updated = await this.#setStatus(backup, { phase: "Failed", failureReason: reason, completionTimestamp: now() });
    await this.#o.events.record(updated, "Warning", "BackupFailed", reason);
    return undefined;
  }

  /** Another Running continuous backup of the same component (the hand-over flag is per instance, so one at a time). */
  async #rival(backup: Backup, cluster: string, component: string): Promise<string | undefined> {
    const backups = (await this.#o.store.list<Backup>("Backup", { namespace: backup.metadata.namespace ?? "default" })).items;
    return backups.find((other) => other.metadata.uid !== backup.metadata.uid && other.status?.phase === "Running" && this.handles(other) && other.status.source?.cluster === cluster && other.status.source.component === component)?.metadata.name;
  }

  async #instances(namespace: string, cluster: string, component: string): Promise<PassContext["instances"]> {
    const instances = (await this.#o.store.list<Instance>("Instance", { namespace })).items;
    return instances
      .filter((instance) => instance.spec.clusterName === cluster && instance.spec.componentName === component && instance.metadata.deletionTimestamp === undefined)
      .map((instance) => ({ instance, layout: instanceLayout(this.#o.paths, instance) }));
  }

  async #archive(backup: Backup): Promise<LogArchive> {
    return { repository: await repositoryOf(this.#o.store, backup), keyring: this.#o.keyring, prefix: logArchivePrefix(backup), backupUid: backup.metadata.uid ?? "" };
  }

  async #index(backup: Backup, archive: LogArchive): Promise<ArchiveIndex> {
    const uid = backup.metadata.uid ?? "";
    let index = this.#indexes.get(uid);
    if (index === undefined) {
      index = await loadIndex(archive);
      this.#indexes.set(uid, index);
    }
    return index;
  }

  #continuous(backup: Backup): ContinuousArchiving {
    const method = this.#o.engines.list().flatMap((engine) => engine.backupMethods).find((m) => m.name === backup.spec.backupMethod && m.continuous !== undefined);
    if (method?.continuous === undefined) throw new BackupRefused(`no engine has a continuous backup method ${backup.spec.backupMethod}`);
    return method.continuous;
  }

  async #setStatus(backup: Backup, changes: Partial<BackupStatus>): Promise<Backup> {
    return this.#o.store.updateStatus<Backup>({ ...backup, status: { ...backup.status, ...changes } });
  }
}
