/** Dynamic parameters of a running PostgreSQL server: holdfast.conf rewritten from the spec, then a reload (no ALTER SYSTEM, so postgresql.auto.conf never drifts from the spec). */
import { join } from "node:path";
import type { ClientTrust, Credentials, HostAccess, LiveParameterChange } from "../types.ts";
import { HOLDFAST_CONF, renderHoldfastConf } from "./config.ts";
import { reloadPostgresql } from "./server-control.ts";

/** Rewrite holdfast.conf (every parameter, removed ones gone) and reload; always applied live. */
export async function applyPostgresqlParameters(change: LiveParameterChange, admin: Credentials, host: HostAccess, _trust?: ClientTrust): Promise<boolean> {
  await host.writeFile(join(change.context.dataDirectory, HOLDFAST_CONF), renderHoldfastConf(change.context), 0o600);
  await reloadPostgresql(change.context.port, admin);
  return true;
}
