/** Serving rewritten TLS files without a restart: MariaDB (10.4 and later) re-reads them on `FLUSH SSL`. */
import type { Credentials, InstanceContext } from "../types.ts";
import { runMariadbScript } from "./client.ts";
import { localTarget } from "./server-control.ts";

/**
 * Make the running server on `context.port` load its TLS files again (ssl-cert, ssl-key, ssl-ca) for new
 * connections; open sessions keep theirs. Reached over TLS checked against the instance's own CA file.
 */
export async function reloadMariadbTls(context: InstanceContext, admin: Credentials): Promise<void> {
  if (context.tls === undefined) return;
  await runMariadbScript(localTarget(context), admin, "FLUSH SSL");
}
