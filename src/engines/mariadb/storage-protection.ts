/**
 * MariaDB at its storage quota (ADR 0048): `SET GLOBAL TRANSACTION READ ONLY` makes read-only the default access mode of
 * every session opened from then on, so INSERT, UPDATE and CREATE fail with MariaDB's own "Cannot execute statement in
 * a READ ONLY transaction" while reads work; an administrator recovers space with `SET SESSION TRANSACTION READ WRITE`
 * then DELETE/TRUNCATE/DROP, or the volume is expanded. Not `read_only`: Holdfast reads a server's role from it
 * (ADR 0047). Sessions already open keep their mode; a restart starts without it and the node agent sets it again.
 * Only a primary takes writes: a replica is left alone, so its replication keeps applying its primary's changes.
 */
import type { ClientTrust, Credentials, HostAccess, InstanceContext } from "../types.ts";
import { askMariadb } from "./client.ts";

/** The statement that turns the protection on or off (pure). */
export function storageProtectionStatement(refuse: boolean): string {
  return refuse ? "SET GLOBAL TRANSACTION READ ONLY" : "SET GLOBAL TRANSACTION READ WRITE";
}

/** Turn the write protection on or off on a running primary. */
export async function protectMariadbStorage(context: InstanceContext, refuse: boolean, admin: Credentials, _host: HostAccess, trust?: ClientTrust): Promise<void> {
  if (refuse && context.role !== "primary") return;
  await askMariadb({ port: context.port, trust }, admin, storageProtectionStatement(refuse));
}
