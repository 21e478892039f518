/**
 * Continuous Backups (KubeBlocks' `Continuous` type, PostgreSQL's `archive-wal`), the control plane's side. A new one
 * is checked and handed to the primary's node agent (status.source); that agent turns handing over on and reports
 * status.run Running with the moment it did, which becomes the Backup's Running phase and timeRange.start. The agents
 * then move the files the servers hand over into the repository (src/agent/wal-archiver.ts); every pass (every 2 s)
 * this side reads what the archive holds, prunes files no kept full backup needs, and advances `status.timeRange.end`
 * to the last time a server wrote an archived file. Deleting the Backup waits for the agent to stop the hand-over and,
 * with deletionPolicy Delete, deletes the archived files. See docs/adr/0010-point-in-time-recovery.md and 0022.
 */
import { BACKUP_FINALIZER, now, type Backup, type BackupStatus, type Instance } from "../../api/index.ts";
import { basesFor, continuousMethodsOf, deleteLogArchive, isArchiving, logArchivePrefix, repositoryOf, type LogArchive } from "../../dataprotection/index.ts";
import type { ContinuousArchiving } from "../../engines/index.ts";
import { errorMessage, NotFoundError } from "../../errors/index.ts";
import { withFinalizer, withoutFinalizer, type EventRecorder, type ReconcileResult } from "../runtime/index.ts";
import { BackupRefused, resolveBackup, startedMetadata, type ResolveDeps } from "./resolve.ts";
import { indexSummary, prune, refreshIndex, type ArchiveIndex } from "./wal-archive-index.ts";

/** How often the archive is looked at: with archive_timeout 60 s, a commit is in the repository within about a minute. */
export const ARCHIVE_PASS_MS = 2000;
/** KubeBlocks' label saying a backup is Full or Continuous. */
export const BACKUP_TYPE_LABEL = "dataprotection.kubeblocks.io/backup-type";

/** What continuous backups need. */
export interface ContinuousBackupsOptions extends ResolveDeps {
  events: EventRecorder;
}

/** The continuous Backups the backup controller hands over. */
export class ContinuousBackups {
  readonly #o: ContinuousBackupsOptions;
  /** What each archive holds, by Backup uid: read from the repository once, then only what is new. */
  readonly #indexes = new Map<string, ArchiveIndex>();

  constructor(options: ContinuousBackupsOptions) {
    this.#o = options;
  }

  /** Is `backup` of a continuous method? */
  handles(backup: Backup): boolean {
    return continuousMethodsOf(this.#o.engines.list()).has(backup.spec.backupMethod);
  }

  async reconcile(backup: Backup): Promise<ReconcileResult | undefined> {
    if (backup.metadata.deletionTimestamp !== undefined) return this.#finalize(backup);
    const live = await withFinalizer(this.#o.store, backup, BACKUP_FINALIZER);
    switch (live.status?.phase ?? "New") {
      case "New":
        return live.status?.source === undefined ? this.#decide(live) : this.#started(live);
      case "Running":
        return this.#pass(live);
      default:
        return undefined;
    }
  }

  /** Check the cluster can archive and hand the backup to the node agent of its ready primary. */
  async #decide(backup: Backup): Promise<ReconcileResult | undefined> {
    const resolved = await resolveBackup(this.#o, backup);
    if ("refused" in resolved) return this.#fail(backup, resolved.refused);
    const { cluster, component } = resolved.target;
    const rival = await this.#rival(backup, cluster, component);
    if (rival !== undefined) return this.#fail(backup, `backup ${rival} already archives the WAL of cluster ${cluster} component ${component}; restore from it, or delete it first`);
    const instances = await this.#instances(backup.metadata.namespace ?? "default", cluster, component);
    const primary = instances.find((instance) => instance.status?.role === "primary" && instance.status.ready === true);
    if (primary === undefined) return this.#fail(backup, `cluster ${cluster} has no ready primary to archive WAL from; back up again once it is Running`);
    const labels = { ...startedMetadata(backup, resolved).labels, [BACKUP_TYPE_LABEL]: "Continuous" };
    const live = await this.#o.store.update<Backup>({ ...backup, metadata: { ...startedMetadata(backup, resolved), labels } });
    await this.#setStatus(live, {
      backupRepoName: resolved.repoName,
      path: logArchivePrefix(backup),
      formatVersion: "holdfast-backup/v1",
      backupMethod: { name: backup.spec.backupMethod, snapshotVolumes: false },
      target: { ...resolved.policy.spec.target, selectedTargetPods: instances.map((instance) => instance.metadata.name) },
      source: { cluster, component, instance: primary.metadata.name, engine: resolved.engine, version: resolved.version },
    });
    // The primary's node agent checks the server archives, turns handing over on, and reports (status.run).
    return undefined;
  }

  /** The agent's answer: archiving began (Running, from that moment on), or why it cannot. */
  async #started(backup: Backup): Promise<ReconcileResult | undefined> {
    const run = backup.status?.run;
    if (run?.state === "Failed") return this.#fail(backup, run.reason ?? "the node agent could not begin archiving");
    if (run?.state !== "Running") return undefined;
    const running = await this.#setStatus(backup, { phase: "Running", startTimestamp: run.startedAt, timeRange: { start: run.startedAt } });
    const { cluster = "?" } = running.status?.source ?? {};
    await this.#o.events.record(running, "Normal", "BackupStarted", `archiving the WAL of cluster ${cluster} into BackupRepo ${running.status?.backupRepoName ?? "?"}; point-in-time recovery is possible from the end of the next full backup on`);
    return { requeueAfterMs: 0 };
  }

  /** Read what the agents archived, prune, and report what is covered. */
  async #pass(backup: Backup): Promise<ReconcileResult> {
    const namespace = backup.metadata.namespace ?? "default";
    const archive = await this.#archive(backup);
    const index = await this.#index(backup, archive);
    const backups = (await this.#o.store.list<Backup>("Backup", { namespace })).items;
    const starts = basesFor(backup, backups, continuousMethodsOf(this.#o.engines.list())).map((base) => Date.parse(base.status?.timeRange?.start ?? ""));
    await prune(archive, this.#continuous(backup), index, starts.length === 0 ? undefined : Math.min(...starts));
    await this.#report(backup, index);
    return { requeueAfterMs: ARCHIVE_PASS_MS };
  }

  async #report(backup: Backup, index: ArchiveIndex): Promise<void> {
    const summary = indexSummary(index);
    const status = backup.status ?? {};
    const timeRange = { ...status.timeRange, ...(summary.end === undefined ? {} : { end: summary.end }) };
    const totalSize = String(summary.bytes);
    if (timeRange.end === status.timeRange?.end && totalSize === status.totalSize) return;
    await this.#setStatus(backup, { timeRange, totalSize, storedSize: String(summary.storedBytes) });
  }

  /** Deleting: once the agent has stopped the hand-over (status.run no longer Running), delete the archive, let go. */
  async #finalize(backup: Backup): Promise<ReconcileResult | undefined> {
    if (!(backup.metadata.finalizers ?? []).includes(BACKUP_FINALIZER)) return undefined;
    // The agent's report wakes this again through the watch.
    if (backup.status?.run?.state === "Running") return undefined;
    if (backup.spec.deletionPolicy === "Delete" && backup.status?.backupRepoName !== undefined) await this.#deleteArchive(backup);
    this.#indexes.delete(backup.metadata.uid ?? "");
    await withoutFinalizer(this.#o.store, backup, BACKUP_FINALIZER);
    return undefined;
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

  /**
   * Another continuous backup of the same component handed out, neither finished nor being deleted (the hand-over
   * flag is per instance, so one at a time; the agents hand over to the one left when another is deleted).
   */
  async #rival(backup: Backup, cluster: string, component: string): Promise<string | undefined> {
    const backups = (await this.#o.store.list<Backup>("Backup", { namespace: backup.metadata.namespace ?? "default" })).items;
    return backups.find((other) => other.metadata.uid !== backup.metadata.uid && isArchiving(other) && this.handles(other) && other.status?.source?.cluster === cluster && other.status.source.component === component)?.metadata.name;
  }

  async #instances(namespace: string, cluster: string, component: string): Promise<Instance[]> {
    const instances = (await this.#o.store.list<Instance>("Instance", { namespace })).items;
    return instances.filter((instance) => instance.spec.clusterName === cluster && instance.spec.componentName === component && instance.metadata.deletionTimestamp === undefined);
  }

  async #archive(backup: Backup): Promise<LogArchive> {
    return { repository: await repositoryOf(this.#o.store, backup), keyring: this.#o.keyring, prefix: logArchivePrefix(backup), backupUid: backup.metadata.uid ?? "" };
  }

  async #index(backup: Backup, archive: LogArchive): Promise<ArchiveIndex> {
    const uid = backup.metadata.uid ?? "";
    const index: ArchiveIndex = this.#indexes.get(uid) ?? new Map<string, { writtenAt: number; bytes: number; storedBytes: number }>();
    this.#indexes.set(uid, index);
    await refreshIndex(archive, index);
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

