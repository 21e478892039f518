/**
 * What a running MariaDB server says of its replication: read_only (its role), its GTID positions, SHOW SLAVE STATUS
 * on a replica (what it received, whether its IO thread runs and from where, Seconds_Behind_Master), SHOW SLAVE HOSTS on
 * a primary (the replicas connected to it, by the instance name each reports).
 */
import type { ClientTrust, Credentials, ReplicationObservation } from "../types.ts";
import { askMariadb, askMariadbRecords, type MariadbTarget } from "./client.ts";
import { formatGtidPosition, parseGtidPosition } from "./gtid.ts";

/** The server variables a probe reads. */
export interface ServerPositions {
  readOnly: boolean;
  /** @@gtid_current_pos: the last transaction of each domain it holds, its own or replicated. */
  currentPos: string;
  /** @@gtid_slave_pos: the last replicated transaction applied. */
  slavePos: string;
  /** @@gtid_binlog_pos: the last transaction in its binlog. */
  binlogPos: string;
}

/** The fields of SHOW SLAVE STATUS a probe uses (absent: no replication configured). */
export interface SlaveStatus {
  ioRunning: string;
  sqlRunning: string;
  masterPort: number | undefined;
  /** Gtid_IO_Pos: the last GTID received into the relay log. */
  ioPos: string;
  secondsBehind: number | undefined;
  lastIoErrno: number;
}

/** A probe's answers, before they are turned into the engine-neutral shape. */
export interface MariadbReplicationStatus {
  positions: ServerPositions;
  slave: SlaveStatus | undefined;
  /** Replicas connected to this server (SHOW SLAVE HOSTS' Host: the instance name each reports). */
  replicas: string[];
}

const POSITIONS_SQL = "SELECT @@GLOBAL.read_only, @@GLOBAL.gtid_current_pos, @@GLOBAL.gtid_slave_pos, @@GLOBAL.gtid_binlog_pos";

/** One row of POSITIONS_SQL (pure). */
export function parsePositions(row: readonly string[] | undefined): ServerPositions | undefined {
  if (row === undefined || (row[0] !== "0" && row[0] !== "1")) return undefined;
  return { readOnly: row[0] === "1", currentPos: row[1] ?? "", slavePos: row[2] ?? "", binlogPos: row[3] ?? "" };
}

/** SHOW SLAVE STATUS as records (pure); undefined when the server has no replication configured. */
export function parseSlaveStatus(records: readonly Record<string, string>[]): SlaveStatus | undefined {
  const record = records[0];
  if (record === undefined) return undefined;
  const number = (value: string | undefined): number | undefined => (value === undefined || value === "" || value === "NULL" ? undefined : Number(value));
  return {
    ioRunning: record.Slave_IO_Running ?? "No",
    sqlRunning: record.Slave_SQL_Running ?? "No",
    masterPort: number(record.Master_Port),
    ioPos: record.Gtid_IO_Pos ?? "",
    secondsBehind: number(record.Seconds_Behind_Master),
    lastIoErrno: number(record.Last_IO_Errno) ?? 0,
  };
}

/** Everything held: per domain the furthest of what was received and what the server has (pure). */
export function heldPosition(positions: ServerPositions, slave: SlaveStatus | undefined): string {
  const parsed = parseGtidPosition([positions.currentPos, slave?.ioPos ?? ""].join(","));
  return parsed === undefined ? positions.currentPos : formatGtidPosition(parsed);
}

/** The engine-neutral observation (pure). MariaDB has no timeline: GTIDs carry who wrote each transaction. */
export function toReplicationObservation(status: MariadbReplicationStatus): ReplicationObservation {
  const { positions, slave } = status;
  if (!positions.readOnly) {
    const replicas = status.replicas.map((name) => ({ name, state: "connected", lagBytes: undefined, lagMs: undefined }));
    return { role: "primary", timeline: 0, received: positions.currentPos, applied: positions.currentPos, streamingFrom: undefined, replicas };
  }
  const streamingFrom = slave?.ioRunning === "Yes" ? slave.masterPort : undefined;
  const behindMs = slave?.secondsBehind === undefined ? undefined : slave.secondsBehind * 1000;
  return { role: "secondary", timeline: 0, received: heldPosition(positions, slave), applied: positions.currentPos, streamingFrom, behindMs, replicas: [] };
}

/** Ask the server on loopback `port`; undefined when it does not answer. Never throws. */
export async function probeMariadbReplication(port: number, admin: Credentials, trust?: ClientTrust): Promise<MariadbReplicationStatus | undefined> {
  const target: MariadbTarget = { port, trust };
  try {
    const positions = parsePositions((await askMariadb(target, admin, POSITIONS_SQL))[0]);
    if (positions === undefined) return undefined;
    // A primary's own slave settings (left from when it was a replica) say nothing: only its replicas count.
    if (!positions.readOnly) return { positions, slave: undefined, replicas: (await askMariadbRecords(target, admin, "SHOW SLAVE HOSTS")).map((r) => r.Host ?? "").filter((h) => h !== "") };
    return { positions, slave: parseSlaveStatus(await askMariadbRecords(target, admin, "SHOW SLAVE STATUS")), replicas: [] };
  } catch {
    return undefined;
  }
}

/** Error 1236 from the primary: it lacks transactions the replica asks to continue after (diverged) or purged their binlog. */
export const ER_MASTER_FATAL_ERROR_READING_BINLOG = 1236;
