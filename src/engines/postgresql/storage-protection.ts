/**
 * PostgreSQL at its storage quota (ADR 0048): `default_transaction_read_only = on` in holdfast-storage.conf (included
 * last from holdfast.conf) and a reload. Every new transaction of every session is read-only, so INSERT, UPDATE and
 * CREATE fail with "cannot execute … in a read-only transaction"; reads work, and the user recovers space with
 * `SET default_transaction_read_only = off` (or `BEGIN READ WRITE`) then DELETE/TRUNCATE/DROP, or by expanding the
 * volume. The file is emptied before every start (a replica cloned from a protected primary copies it, and must not
 * come up read-only when promoted); the node agent protects a restarted server again at its next measurement.
 */
import { join } from "node:path";
import type { Credentials, HostAccess, InstanceContext } from "../types.ts";
import { STORAGE_PROTECTION_CONF } from "./config.ts";
import { reloadPostgresql } from "./server-control.ts";

/** The content of holdfast-storage.conf with the protection on or off (pure). */
export function storageProtectionConf(refuse: boolean): string {
  const header = "# Managed by Holdfast: write protection at the storage quota (ADR 0048).";
  return [header, ...(refuse ? ["default_transaction_read_only = on"] : []), ""].join("\n");
}

/** Write holdfast-storage.conf with the protection on or off (read at the next reload or start). */
export async function writeStorageProtection(context: InstanceContext, refuse: boolean, host: HostAccess): Promise<void> {
  await host.writeFile(join(context.dataDirectory, STORAGE_PROTECTION_CONF), storageProtectionConf(refuse), 0o600);
}

/** Turn the write protection on or off, then reload. */
export async function protectPostgresqlStorage(context: InstanceContext, refuse: boolean, admin: Credentials, host: HostAccess): Promise<void> {
  await writeStorageProtection(context, refuse, host);
  await reloadPostgresql(context.port, admin);
}
