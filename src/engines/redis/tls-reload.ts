/** Serving renewed TLS files without a restart: Redis re-reads its TLS files when they are set, even to the same paths. */
import type { Credentials, InstanceContext } from "../types.ts";
import { commandRedis } from "./session.ts";
import { loopbackTarget } from "./socket.ts";

/** The CONFIG SET that makes a server load the TLS files of `context` again (pure; undefined without TLS files). */
export function tlsReloadCommand(context: Pick<InstanceContext, "tls">): string[] | undefined {
  const tls = context.tls;
  if (tls === undefined) return undefined;
  return ["CONFIG", "SET", "tls-cert-file", tls.certificateFile, "tls-key-file", tls.keyFile, "tls-ca-cert-file", tls.caFile];
}

/**
 * Make the running server on `context.port` serve its rewritten TLS files for new connections; connections already
 * open keep their session. Reached over TLS checked against the instance's CA file, as every client of it.
 */
export async function reloadRedisTls(context: InstanceContext, admin: Credentials): Promise<void> {
  const command = tlsReloadCommand(context);
  if (command === undefined) return;
  await commandRedis(loopbackTarget(context.port, context.tls?.caFile), admin, [command]);
}
