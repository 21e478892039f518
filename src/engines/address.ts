/** Where an instance listens and how its peers are reached: decided from its context, in one place. */
import { readFile } from "node:fs/promises";
import { checkServerIdentity, type ConnectionOptions } from "node:tls";
import type { InstanceContext, UpstreamAddress } from "./types.ts";

/** The address local administration uses: the node itself, never a network. */
export const LOOPBACK = "127.0.0.1";

/** The addresses a server listens on: loopback (local administration), and its node's address when that is another. */
export function listenAddresses(context: Pick<InstanceContext, "address">): string[] {
  const address = context.address ?? LOOPBACK;
  return address === LOOPBACK ? [LOOPBACK] : [LOOPBACK, address];
}

/** A server on another instance, and the CA file its certificate must be signed by (absent: plain loopback). */
export interface PeerServer extends UpstreamAddress {
  caFile?: string | undefined;
}

/** `upstream` as a peer to reach with TLS checked against the CA of `context` (when it has TLS). */
export function peerServer(context: Pick<InstanceContext, "tls">, upstream: UpstreamAddress): PeerServer {
  return { host: upstream.host, port: upstream.port, caFile: context.tls?.caFile };
}

/**
 * Node TLS options that trust only the CA in `caFile` and check that the certificate names `host` (an IP address
 * is checked against the certificate's IP addresses, not against a default server name).
 */
export async function verifyingTlsOptions(host: string, caFile: string): Promise<ConnectionOptions> {
  const ca = await readFile(caFile, "utf8");
  return { ca, rejectUnauthorized: true, minVersion: "TLSv1.2", checkServerIdentity: (_name, certificate) => checkServerIdentity(host, certificate) };
}
