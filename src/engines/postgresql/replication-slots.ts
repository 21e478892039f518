/** Physical replication slots on the primary: one per standby, so it keeps the WAL each one still needs. */
import { setTimeout as sleep } from "node:timers/promises";
import type pg from "pg";
import { UnavailableError } from "../../errors/index.ts";
import type { Credentials } from "../types.ts";
import { withSession, type SessionTarget } from "./session.ts";

/** PostgreSQL's duplicate_object SQLSTATE: someone created the slot first. */
const DUPLICATE_OBJECT = "42710";
/** object_in_use: the standby re-activated the slot between our check and the drop. */
const OBJECT_IN_USE = "55006";
const DROP_ATTEMPTS = 10;

/** The SQLSTATE of a server error, if it is one. */
function sqlState(error: unknown): string | undefined {
  return error instanceof Error && "code" in error && typeof error.code === "string" ? error.code : undefined;
}

/**
 * Make sure the physical slot `slotName` exists on `server` (a port on this node, or a peer), reserving WAL from now on
 * (so a base backup taken next finds its WAL kept). Idempotent.
 */
export async function ensureReplicationSlot(server: SessionTarget, admin: Credentials, slotName: string): Promise<"created" | "exists"> {
  return withSession(server, admin, async (client) => {
    const found = await client.query("SELECT 1 FROM pg_catalog.pg_replication_slots WHERE slot_name = $1", [slotName]);
    if (found.rowCount === 1) return "exists";
    try {
      await client.query("SELECT pg_catalog.pg_create_physical_replication_slot($1, true)", [slotName]);
      return "created";
    } catch (error) {
      if (sqlState(error) === DUPLICATE_OBJECT) return "exists";
      throw error;
    }
  });
}

/** Drop an inactive slot; false when a WAL sender took it in the meantime. */
async function dropUnlessInUse(client: pg.Client, slotName: string): Promise<boolean> {
  try {
    await client.query("SELECT pg_catalog.pg_drop_replication_slot($1)", [slotName]);
    return true;
  } catch (error) {
    if (sqlState(error) === OBJECT_IN_USE) return false;
    throw error;
  }
}

/**
 * Drop the slot `slotName` so the primary stops keeping WAL for a standby that is gone. A slot still in
 * use has its WAL sender terminated first (the standby would reconnect and re-activate it: stop it first).
 */
export async function dropReplicationSlot(port: number, admin: Credentials, slotName: string): Promise<"dropped" | "absent"> {
  return withSession(port, admin, async (client) => {
    for (let attempt = 0; attempt < DROP_ATTEMPTS; attempt++) {
      const result = await client.query<{ active_pid: number | null }>("SELECT active_pid FROM pg_catalog.pg_replication_slots WHERE slot_name = $1", [slotName]);
      const row = result.rows[0];
      if (row === undefined) return "absent";
      if (row.active_pid === null && (await dropUnlessInUse(client, slotName))) return "dropped";
      if (row.active_pid !== null) await client.query("SELECT pg_catalog.pg_terminate_backend($1)", [row.active_pid]);
      await sleep(100 * (attempt + 1));
    }
    throw new UnavailableError(`replication slot ${slotName} on 127.0.0.1:${port} stays in use: stop the standby streaming through it, then retry`);
  });
}

/** The physical replication slots on 127.0.0.1:`port` (temporary ones, such as a base backup's, left out). */
export async function listReplicationSlots(port: number, admin: Credentials): Promise<string[]> {
  return withSession(port, admin, async (client) => {
    const result = await client.query<{ slot_name: string }>("SELECT slot_name FROM pg_catalog.pg_replication_slots WHERE slot_type = 'physical' AND NOT temporary ORDER BY slot_name");
    return result.rows.map((row) => row.slot_name);
  });
}
