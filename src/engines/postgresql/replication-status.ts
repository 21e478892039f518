/**
 * The replication state of one instance, as PostgreSQL reports it: role, timeline, WAL positions,
 * and on a primary each standby's progress and lag. Reading it is separate from deciding anything.
 */
import type pg from "pg";
import { z } from "zod";
import { InternalError } from "../../errors/index.ts";
import type { Credentials } from "../types.ts";
import { timelineOfWalFile, walBytesBetween } from "./lsn.ts";
import { withSession } from "./session.ts";

const OVERVIEW_SQL = `SELECT pg_catalog.pg_is_in_recovery() AS in_recovery,
  CASE WHEN pg_catalog.pg_is_in_recovery() THEN NULL ELSE pg_catalog.pg_current_wal_lsn()::text END AS current_lsn,
  CASE WHEN pg_catalog.pg_is_in_recovery() THEN NULL ELSE pg_catalog.pg_walfile_name(pg_catalog.pg_current_wal_lsn()) END AS current_wal_file,
  pg_catalog.pg_last_wal_receive_lsn()::text AS receive_lsn,
  pg_catalog.pg_last_wal_replay_lsn()::text AS replay_lsn,
  pg_catalog.pg_last_xact_replay_timestamp() AS replay_timestamp,
  (SELECT timeline_id FROM pg_catalog.pg_control_checkpoint()) AS checkpoint_timeline,
  (SELECT max(('x' || substr(name, 1, 8))::bit(32)::int) FROM pg_catalog.pg_ls_waldir() WHERE name ~ '^[0-9A-F]{8}\\.history$') AS history_timeline,
  pg_catalog.current_setting('synchronous_standby_names') AS synchronous_standby_names`;

const REPLICAS_SQL = `SELECT application_name, state, sync_state,
  sent_lsn::text AS sent_lsn, write_lsn::text AS write_lsn, flush_lsn::text AS flush_lsn, replay_lsn::text AS replay_lsn,
  (EXTRACT(EPOCH FROM write_lag) * 1000)::float8 AS write_lag_ms,
  (EXTRACT(EPOCH FROM flush_lag) * 1000)::float8 AS flush_lag_ms,
  (EXTRACT(EPOCH FROM replay_lag) * 1000)::float8 AS replay_lag_ms
  FROM pg_catalog.pg_stat_replication ORDER BY application_name`;

const SLOTS_SQL = `SELECT slot_name, active, restart_lsn::text AS restart_lsn, wal_status
  FROM pg_catalog.pg_replication_slots WHERE slot_type = 'physical' ORDER BY slot_name`;

const RECEIVER_SQL = "SELECT status, sender_host, sender_port, slot_name, received_tli FROM pg_catalog.pg_stat_wal_receiver";

const lsn = z.string().nullable();
const ms = z.number().nullable();

const overviewRow = z.object({
  in_recovery: z.boolean(),
  current_lsn: lsn,
  current_wal_file: z.string().nullable(),
  receive_lsn: lsn,
  replay_lsn: lsn,
  replay_timestamp: z.date().nullable(),
  checkpoint_timeline: z.number().int(),
  history_timeline: z.number().int().nullable().optional(),
  synchronous_standby_names: z.string(),
});
const replicaRow = z.object({
  application_name: z.string(), state: z.string().nullable(), sync_state: z.string().nullable(),
  sent_lsn: lsn, write_lsn: lsn, flush_lsn: lsn, replay_lsn: lsn,
  write_lag_ms: ms, flush_lag_ms: ms, replay_lag_ms: ms,
});
const slotRow = z.object({ slot_name: z.string(), active: z.boolean(), restart_lsn: lsn, wal_status: z.string().nullable() });
const receiverRow = z.object({ status: z.string(), sender_host: z.string().nullable(), sender_port: z.number().int().nullable(), slot_name: z.string().nullable(), received_tli: z.number().int().nullable() });

/** One standby as its primary sees it (a row of pg_stat_replication). */
export interface ReplicaStatus {
  /** Its application_name: the replication name of the instance. */
  name: string;
  /** `startup`, `catchup`, `streaming`, `backup`, `stopping`. */
  state: string | undefined;
  /** `async`, `potential`, `sync`, `quorum`. */
  syncState: string | undefined;
  sentLsn: string | undefined;
  flushLsn: string | undefined;
  replayLsn: string | undefined;
  /** WAL the primary has written that the standby has not replayed yet. */
  lagBytes: number | undefined;
  /** WAL the standby has not flushed yet: what a failover to it would lose. */
  flushLagBytes: number | undefined;
  /** Time lags; undefined once the standby has caught up and the primary is idle. */
  writeLagMs: number | undefined;
  flushLagMs: number | undefined;
  replayLagMs: number | undefined;
}

/** A physical replication slot on the primary. */
export interface SlotStatus {
  name: string;
  active: boolean;
  restartLsn: string | undefined;
  /** `reserved`, `extended`, `unreserved`, `lost`. */
  walStatus: string | undefined;
  /** WAL kept for this slot. */
  retainedBytes: number | undefined;
}

/** A standby's WAL receiver: whom it streams from. */
export interface WalReceiverStatus {
  status: string;
  senderHost: string | undefined;
  senderPort: number | undefined;
  slotName: string | undefined;
}

/** A primary: where its WAL is and how far each standby has got. */
export interface PrimaryReplicationStatus {
  role: "primary";
  timeline: number;
  currentLsn: string;
  synchronousStandbyNames: string;
  replicas: ReplicaStatus[];
  slots: SlotStatus[];
}

/** A standby: how much WAL it has received and replayed. */
export interface StandbyReplicationStatus {
  role: "standby";
  timeline: number;
  receiveLsn: string | undefined;
  replayLsn: string | undefined;
  /** Commit time of the last replayed transaction (ISO 8601). */
  replayTimestamp: string | undefined;
  /** WAL received but not replayed yet. */
  replayLagBytes: number | undefined;
  receiver: WalReceiverStatus | undefined;
}

/** The replication state of one instance. */
export type ReplicationStatus = PrimaryReplicationStatus | StandbyReplicationStatus;

type OverviewRow = z.infer<typeof overviewRow>;

/** Bytes from `from` to `to`, when both are known. */
function distance(from: string | null | undefined, to: string | null | undefined): number | undefined {
  return from === null || from === undefined || to === null || to === undefined ? undefined : walBytesBetween(from, to);
}

/** A pg_stat_replication row as a ReplicaStatus, lag measured against `currentLsn`. */
export function toReplicaStatus(row: unknown, currentLsn: string): ReplicaStatus {
  const r = replicaRow.parse(row);
  return {
    name: r.application_name, state: r.state ?? undefined, syncState: r.sync_state ?? undefined,
    sentLsn: r.sent_lsn ?? undefined, flushLsn: r.flush_lsn ?? undefined, replayLsn: r.replay_lsn ?? undefined,
    lagBytes: distance(r.replay_lsn, currentLsn), flushLagBytes: distance(r.flush_lsn, currentLsn),
    writeLagMs: r.write_lag_ms ?? undefined, flushLagMs: r.flush_lag_ms ?? undefined, replayLagMs: r.replay_lag_ms ?? undefined,
  };
}

/** A pg_replication_slots row as a SlotStatus. */
export function toSlotStatus(row: unknown, currentLsn: string): SlotStatus {
  const r = slotRow.parse(row);
  return { name: r.slot_name, active: r.active, restartLsn: r.restart_lsn ?? undefined, walStatus: r.wal_status ?? undefined, retainedBytes: distance(r.restart_lsn, currentLsn) };
}

/** The standby's status from the overview row and its WAL receiver row (if it has one running). */
export function toStandbyStatus(overview: OverviewRow, receiverRowValue: unknown): StandbyReplicationStatus {
  const receiver = receiverRowValue === undefined ? undefined : receiverRow.parse(receiverRowValue);
  return {
    role: "standby",
    // The receiver knows the timeline it streams. Without one (its primary just died) the last restartpoint's can be
    // timelines behind a standby that followed promotions by reload: the newest history file it fetched says more.
    timeline: Math.max(receiver?.received_tli ?? overview.checkpoint_timeline, overview.history_timeline ?? 0),
    receiveLsn: overview.receive_lsn ?? undefined,
    replayLsn: overview.replay_lsn ?? undefined,
    replayTimestamp: overview.replay_timestamp?.toISOString(),
    replayLagBytes: distance(overview.replay_lsn, overview.receive_lsn),
    receiver: receiver === undefined ? undefined : { status: receiver.status, senderHost: receiver.sender_host ?? undefined, senderPort: receiver.sender_port ?? undefined, slotName: receiver.slot_name ?? undefined },
  };
}

/** Read the replication state over an open session. */
async function readStatus(client: pg.Client): Promise<ReplicationStatus> {
  const overview = overviewRow.parse((await client.query(OVERVIEW_SQL)).rows[0]);
  if (overview.in_recovery || overview.current_lsn === null || overview.current_wal_file === null) {
    return toStandbyStatus(overview, (await client.query(RECEIVER_SQL)).rows[0]);
  }
  const currentLsn = overview.current_lsn;
  const [replicas, slots] = [(await client.query(REPLICAS_SQL)).rows, (await client.query(SLOTS_SQL)).rows];
  return {
    role: "primary",
    // The current WAL file's name carries the timeline the primary writes now (pg_control's lags after a promotion).
    timeline: timelineOfWalFile(overview.current_wal_file),
    currentLsn,
    synchronousStandbyNames: overview.synchronous_standby_names,
    replicas: replicas.map((row) => toReplicaStatus(row, currentLsn)),
    slots: slots.map((row) => toSlotStatus(row, currentLsn)),
  };
}

/**
 * The replication state of the instance on 127.0.0.1:`port`, or undefined when it cannot be asked
 * (down, refusing, too slow). An answer Holdfast cannot read throws instead: it must never pass for a dead server.
 */
export async function probeReplication(port: number, admin: Credentials): Promise<ReplicationStatus | undefined> {
  try {
    return await withSession(port, admin, readStatus, { queryTimeoutMs: 2000 });
  } catch (error) {
    if (error instanceof z.ZodError) throw new InternalError(`unexpected replication status from 127.0.0.1:${port}: ${error.message}`, { cause: error });
    return undefined;
  }
}
