/** Readiness and role of a running MariaDB server, asked as the administrator over loopback TCP. */
import type { ClientTrust, Credentials } from "../types.ts";
import { askMariadb } from "./client.ts";

/** `primary` for a writable server, `secondary` for a read-only one (a replica), from `@@read_only` (pure). */
export function roleFromReadOnly(rows: readonly (readonly string[])[]): string | undefined {
  const value = rows[0]?.[0];
  if (value === "0") return "primary";
  if (value === "1") return "secondary";
  return undefined;
}

async function readOnlyRows(port: number, admin: Credentials, trust: ClientTrust | undefined): Promise<string[][] | undefined> {
  try {
    return await askMariadb({ port, trust }, admin, "SELECT @@global.read_only");
  } catch {
    return undefined;
  }
}

/** Does the server accept the administrator and answer a query? Never throws. */
export async function probeMariadbReady(port: number, admin: Credentials, trust?: ClientTrust): Promise<boolean> {
  return roleFromReadOnly((await readOnlyRows(port, admin, trust)) ?? []) !== undefined;
}

/** `primary` or `secondary` from read_only, undefined when unreachable. Never throws. */
export async function probeMariadbRole(port: number, admin: Credentials, trust?: ClientTrust): Promise<string | undefined> {
  return roleFromReadOnly((await readOnlyRows(port, admin, trust)) ?? []);
}
