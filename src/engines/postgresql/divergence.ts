/**
 * Has a standby diverged from the timeline it is asked to follow? A standby that received WAL past the point where
 * the new primary's timeline forked off its own cannot stream from the new primary: its WAL receiver fetches the new
 * timeline's history file, then fails ("new timeline N forked off current database system timeline M before current
 * recovery point"). That history file, now in the standby's pg_wal, says where the fork is. The standby's own timeline
 * is the newest of the WAL segments it holds (its last restartpoint's can be several promotions behind a standby that
 * followed them, which would make its position look past a fork it never was on).
 */
import { z } from "zod";
import type { Credentials } from "../types.ts";
import { compareLsn } from "./lsn.ts";
import { withSession } from "./session.ts";

const DIVERGENCE_SQL = `WITH newest AS (
    SELECT max(name) AS name FROM pg_catalog.pg_ls_waldir() WHERE name ~ '^[0-9A-F]{8}\\.history$'
  )
  SELECT coalesce(
      (SELECT max(('x' || substr(name, 1, 8))::bit(32)::int) FROM pg_catalog.pg_ls_waldir() WHERE name ~ '^[0-9A-F]{24}$'),
      (SELECT timeline_id FROM pg_catalog.pg_control_checkpoint())) AS timeline,
    greatest(pg_catalog.pg_last_wal_receive_lsn(), pg_catalog.pg_last_wal_replay_lsn())::text AS position,
    (SELECT pg_catalog.pg_read_file('pg_wal/' || name) FROM newest WHERE name IS NOT NULL) AS history`;

const divergenceRow = z.object({ timeline: z.number().int(), position: z.string().nullable(), history: z.string().nullable() });

/** The WAL position where `timeline` ended, from a timeline history file's text (`parent\tswitchpoint\treason` lines). */
export function switchpointOf(history: string, timeline: number): string | undefined {
  for (const line of history.split("\n")) {
    const [parent, switchpoint] = line.trim().split(/\s+/);
    if (parent === undefined || parent.startsWith("#") || switchpoint === undefined) continue;
    if (Number(parent) === timeline) return switchpoint;
  }
  return undefined;
}

/**
 * Diverged: the newest history the standby holds ends its timeline at a point before what it has received or
 * replayed. No history file, or one that does not end its timeline, says nothing of a fork: not diverged.
 */
export function divergedFromHistory(row: { timeline: number; position: string | null; history: string | null }): boolean {
  if (row.history === null || row.position === null) return false;
  const switchpoint = switchpointOf(row.history, row.timeline);
  return switchpoint !== undefined && compareLsn(row.position, switchpoint) > 0;
}

/** The standby's log says its upstream removed WAL it still needs (no slot kept it): it can never catch up by streaming. */
export function walRemovedUpstream(logTail: string): string | undefined {
  const match = /requested WAL segment ([0-9A-F]{24}) has already been removed/.exec(logTail);
  return match === null ? undefined : `its primary no longer has WAL segment ${match[1] ?? ""}, which it needs to catch up`;
}

/** Asks the standby on `port` (this node's) whether it diverged; false when it cannot be asked. */
export async function standbyDiverged(port: number, admin: Credentials): Promise<boolean> {
  try {
    const row = await withSession(port, admin, async (client) => divergenceRow.parse((await client.query(DIVERGENCE_SQL)).rows[0]), { queryTimeoutMs: 5000 });
    return divergedFromHistory(row);
  } catch {
    return false;
  }
}
