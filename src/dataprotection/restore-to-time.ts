/** Point-in-time restore of a new instance: a full backup plus the archived log of a continuous backup, up to a moment. */
import type { Backup } from "../api/index.ts";
import { InvalidError } from "../errors/index.ts";
import type { Credentials, Engine, HostAccess, InstanceContext } from "../engines/index.ts";
import type { Logger } from "../util/index.ts";
import { repositoryOf } from "./open-completed.ts";
import type { RestoreMeter } from "./restore-meter.ts";
import { openRestoreSource, type RestoreAccess } from "./restore-source.ts";
import { continuousMethodsOf, planPointInTime } from "./pitr-plan.ts";
import { logArchivePrefix, logArchiveSource } from "./wal-archive-store.ts";

/** What a point-in-time restore fills and with what. */
export interface TimeRestoreTarget {
  engine: Engine;
  context: InstanceContext;
  accounts: readonly Credentials[];
  host: HostAccess;
  /** Counts the full backup's bytes; cancels the reads of both backups. */
  meter: RestoreMeter;
  /** Records the peak memory of the process that unpacks the full backup. */
  logger?: Logger | undefined;
}

/** Restore `target` to `time` starting from the backup the user named; InvalidError when the time is not covered. */
export async function restoreToTime(access: RestoreAccess, target: TimeRestoreTarget, named: Backup, time: Date): Promise<void> {
  const namespace = named.metadata.namespace ?? "default";
  const backups = (await access.store.list<Backup>("Backup", { namespace })).items;
  const plan = planPointInTime(named, time, backups, continuousMethodsOf([target.engine]));
  if ("problem" in plan) throw new InvalidError(plan.problem);
  const continuous = target.engine.backupMethods.find((method) => method.name === plan.archive.spec.backupMethod)?.continuous;
  if (continuous === undefined) throw new InvalidError(`${target.engine.name} cannot replay backup ${plan.archive.metadata.name} (method ${plan.archive.spec.backupMethod})`);
  const base = await openRestoreSource(access, plan.base, target.meter, target.logger);
  const repository = await repositoryOf(access.store, plan.archive);
  const log = await logArchiveSource({ repository, keyring: access.keyring, prefix: logArchivePrefix(plan.archive), backupUid: plan.archive.metadata.uid ?? "" });
  const { meter } = target;
  await continuous.restoreToTime({ context: target.context, base, log: meter.trackLog(log), target: time, accounts: target.accounts }, target.host);
}
