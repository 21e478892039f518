/**
 * The schedule controller: a BackupSchedule's enabled entries create Backups at their cron slots. A backup is named
 * after its slot, so creating it again (after a restart between the create and the status write) finds it there:
 * a slot never yields two backups. The slot is then recorded in status.schedules[name].lastScheduleTime; a control
 * plane that was down for several slots runs only the latest, once. Expired backups are deleted by the backup
 * controller (a backup's retentionPeriod sets its status.expiration). */
import { parseCronExpression, type Backup, type BackupPolicy, type BackupSchedule, type BackupScheduleStatus, type SchedulePolicy } from "../../api/index.ts";
import { AlreadyExistsError } from "../../errors/index.ts";
import type { Store } from "../../store/index.ts";
import { splitKey, type EventRecorder, type ReconcileResult, type Reconciler } from "../runtime/index.ts";
import { BACKUP_METHOD_LABEL, BACKUP_SCHEDULE_LABEL, decideEntry, entryName, isUnfinished, scheduleProblem, scheduledBackup, type EntryDecision } from "./plan.ts";

/** Look at a schedule at least this often (a safety net; slots are woken for exactly). */
const MAX_SLEEP_MS = 10 * 60_000;
/** A schedule whose policy is missing is looked at again this often. */
const FAILED_RETRY_MS = 30_000;

export interface BackupScheduleReconcilerOptions {
  store: Store;
  events: EventRecorder;
  /** The clock (milliseconds since the epoch); tests inject one. */
  now?: () => number;
}

type EntryStatus = NonNullable<BackupScheduleStatus["schedules"]>[string];

export class BackupScheduleReconciler implements Reconciler {
  readonly #o: BackupScheduleReconcilerOptions;
  readonly #now: () => number;

  constructor(options: BackupScheduleReconcilerOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
  }

  async reconcile(key: string): Promise<ReconcileResult | undefined> {
    const { namespace = "default", name } = splitKey(key);
    const schedule = await this.#o.store.get<BackupSchedule>({ kind: "BackupSchedule", namespace, name });
    if (schedule === undefined || schedule.metadata.deletionTimestamp !== undefined) return undefined;
    const policy = await this.#o.store.get<BackupPolicy>({ kind: "BackupPolicy", namespace, name: schedule.spec.backupPolicyName });
    const problem = scheduleProblem(schedule, policy);
    if (problem !== undefined || policy === undefined) {
      await this.#writeStatus(schedule, { ...schedule.status, phase: "Failed", failureReason: problem ?? "" });
      return { requeueAfterMs: FAILED_RETRY_MS };
    }
    return this.#runSchedule(schedule, policy);
  }

  /** Run every entry of a schedule whose policy is there; wake at the earliest next slot. */
  async #runSchedule(schedule: BackupSchedule, policy: BackupPolicy): Promise<ReconcileResult> {
    const namespace = schedule.metadata.namespace ?? "default";
    const backups = (await this.#o.store.list<Backup>("Backup", { namespace })).items.filter((b) => b.spec.backupPolicyName === policy.metadata.name);
    // Entries that were removed or renamed drop out of status.
    const statuses: Record<string, EntryStatus> = {};
    let wakeAt = this.#now() + MAX_SLEEP_MS;
    for (const entry of schedule.spec.schedules) {
      const name = entryName(entry);
      const { status, nextAt } = await this.#runEntry(schedule, policy, entry, backups, schedule.status?.schedules?.[name]);
      statuses[name] = status;
      if (nextAt !== undefined) wakeAt = Math.min(wakeAt, nextAt);
    }
    const { failureReason: _cleared, ...rest } = schedule.status ?? {};
    await this.#writeStatus(schedule, { ...rest, phase: "Available", schedules: statuses, ...(schedule.metadata.generation === undefined ? {} : { observedGeneration: schedule.metadata.generation }) });
    return { requeueAfterMs: Math.max(1000, wakeAt - this.#now()) };
  }

  async #runEntry(schedule: BackupSchedule, policy: BackupPolicy, entry: SchedulePolicy, backups: readonly Backup[], previous: EntryStatus | undefined): Promise<{ status: EntryStatus; nextAt?: number | undefined }> {
    const mine = backups.filter((b) => b.spec.backupMethod === entry.backupMethod);
    const lastSuccessfulTime = latestCompletion(mine.filter((b) => b.metadata.labels?.[BACKUP_SCHEDULE_LABEL] === schedule.metadata.name));
    const base: EntryStatus = { ...previous, ...(lastSuccessfulTime === undefined ? {} : { lastSuccessfulTime }) };
    if (!entry.enabled) {
      const { phase: _phase, ...disabled } = base;
      return { status: disabled };
    }
    const anchor = Date.parse(previous?.lastScheduleTime ?? schedule.metadata.creationTimestamp ?? new Date(this.#now()).toISOString());
    const decision = decideEntry({ cron: parseCronExpression(entry.cronExpression), anchor, now: this.#now(), startingDeadlineMinutes: schedule.spec.startingDeadlineMinutes, running: mine.find(isUnfinished)?.metadata.name });
    if (decision.action === "wait") return { status: { ...base, phase: "Running" }, nextAt: decision.nextAt };
    await this.#act(schedule, policy, entry, decision);
    return { status: { ...base, phase: "Running", lastScheduleTime: new Date(decision.slot).toISOString() }, nextAt: decision.nextAt };
  }

  async #act(schedule: BackupSchedule, policy: BackupPolicy, entry: SchedulePolicy, decision: Exclude<EntryDecision, { action: "wait" }>): Promise<void> {
    const at = new Date(decision.slot).toISOString();
    if (decision.action === "skip") {
      await this.#o.events.record(schedule, "Warning", "BackupSkipped", `the ${entryName(entry)} backup due at ${at} was not started: ${decision.reason}`);
      return;
    }
    const backup = scheduledBackup(schedule, policy, entry, decision.slot);
    try {
      await this.#o.store.create(backup);
      await this.#o.events.record(schedule, "Normal", "BackupCreated", `created Backup ${backup.metadata.name} (${entry.backupMethod}, retention ${entry.retentionPeriod}) for the slot at ${at}`);
    } catch (error) {
      if (!(error instanceof AlreadyExistsError)) throw error;
      // Created before a restart cut this pass short, or by another schedule for the same cluster and minute.
      const existing = await this.#o.store.get<Backup>({ kind: "Backup", namespace: backup.metadata.namespace ?? "default", name: backup.metadata.name });
      const ours = existing?.metadata.labels?.[BACKUP_SCHEDULE_LABEL] === schedule.metadata.name && existing.metadata.labels[BACKUP_METHOD_LABEL] === entry.backupMethod;
      if (!ours) await this.#o.events.record(schedule, "Warning", "BackupSkipped", `the ${entryName(entry)} backup due at ${at} was not created: Backup ${backup.metadata.name} already exists and belongs to something else`);
    }
  }

  async #writeStatus(schedule: BackupSchedule, status: BackupScheduleStatus): Promise<void> {
    if (JSON.stringify(status) === JSON.stringify(schedule.status)) return;
    await this.#o.store.updateStatus<BackupSchedule>({ ...schedule, status });
  }
}

/** When the most recent of these backups completed. */
function latestCompletion(backups: readonly Backup[]): string | undefined {
  const times = backups.filter((b) => b.status?.phase === "Completed" && b.status.completionTimestamp !== undefined).map((b) => b.status?.completionTimestamp ?? "");
  return times.sort().at(-1);
}
