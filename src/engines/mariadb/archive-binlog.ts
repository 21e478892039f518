/**
 * The `archive-binlog` backup method (KubeBlocks' Continuous type, as PostgreSQL's archive-wal): each instance's finished
 * binlog files archived into the repository, encrypted, for point-in-time recovery onto a mariabackup backup. The node
 * agent's archiver runs it (binlog-archive.ts collects the files; ADR 0049).
 */
import { InvalidError } from "../../errors/index.ts";
import type { BackupMethodDefinition, ContinuousArchiving } from "../types.ts";
import { binlogArchiveFlag, binlogArchivingProblem, binlogSpoolDirectory, collectBinlogs, isArchivedBinlog } from "./binlog-archive.ts";
import { compareArchivedBinlogs } from "./binlog-names.ts";
import { restoreMariadbToTime } from "./binlog-restore.ts";
import { MARIABACKUP } from "./mariabackup.ts";

/** Name of the method. */
export const ARCHIVE_BINLOG = "archive-binlog";

const BINLOG_ARCHIVING: ContinuousArchiving = {
  baseMethods: [MARIABACKUP],
  spoolDirectory: binlogSpoolDirectory,
  flagFile: binlogArchiveFlag,
  isLogFile: isArchivedBinlog,
  compare: compareArchivedBinlogs,
  keepAlways: () => false,
  problem: binlogArchivingProblem,
  collect: collectBinlogs,
  restoreToTime: restoreMariadbToTime,
};

/** Continuous binlog archiving for point-in-time recovery. */
export const MARIADB_ARCHIVE_BINLOG: BackupMethodDefinition = {
  name: ARCHIVE_BINLOG,
  description: "continuous binlog archiving into the repository, for point-in-time recovery onto a mariabackup backup",
  targetRole: "primary",
  backup: () => Promise.reject(new InvalidError(`${ARCHIVE_BINLOG} is continuous: the archiver runs it, not a backup job`)),
  restore: () => Promise.reject(new InvalidError(`an ${ARCHIVE_BINLOG} backup is restored to a point in time: give a restore time (holdfast cluster restore NEW --backup NAME --restore-to-time T)`)),
  continuous: BINLOG_ARCHIVING,
};
