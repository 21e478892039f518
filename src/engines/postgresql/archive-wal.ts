/**
 * The `archive-wal` backup method (KubeBlocks' Continuous PostgreSQL method): WAL archived continuously from the
 * primary (and, with archive_mode=always, from standbys, so a failover loses nothing already received), enabling
 * point-in-time recovery onto a pg-basebackup backup. The node agent's WAL archiver runs it; see ADRs 10 and 22.
 */
import { InvalidError } from "../../errors/index.ts";
import type { BackupMethodDefinition, ContinuousArchiving } from "../types.ts";
import { archivingProblem, compareWalFiles, isTimelineHistory, isWalFile, walArchiveFlag, walSpoolDirectory } from "./wal-archive.ts";
import { restorePostgresqlToTime } from "./wal-restore.ts";

/** Name of the method, as KubeBlocks calls it. */
export const ARCHIVE_WAL = "archive-wal";

const WAL_ARCHIVING: ContinuousArchiving = {
  baseMethods: ["pg-basebackup"],
  spoolDirectory: walSpoolDirectory,
  flagFile: walArchiveFlag,
  isLogFile: isWalFile,
  compare: compareWalFiles,
  keepAlways: isTimelineHistory,
  problem: archivingProblem,
  restoreToTime: restorePostgresqlToTime,
};

/** Continuous WAL archiving for point-in-time recovery. */
export const PG_ARCHIVE_WAL: BackupMethodDefinition = {
  name: ARCHIVE_WAL,
  description: "continuous WAL archiving into the repository, for point-in-time recovery onto a pg-basebackup backup",
  targetRole: "primary",
  backup: () => Promise.reject(new InvalidError(`${ARCHIVE_WAL} is continuous: the WAL archiver runs it, not a backup job`)),
  restore: () => Promise.reject(new InvalidError(`an ${ARCHIVE_WAL} backup is restored to a point in time: give a restore time (holdfast cluster restore NEW --backup NAME --restore-to-time T)`)),
  continuous: WAL_ARCHIVING,
};
