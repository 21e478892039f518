/** Where an instance listens and how its peers are reached: decided from its context, in one place. */
import { readFile } from "node:fs/promises";
import { isIP } from "node:net";
import { checkServerIdentity, type ConnectionOptions } from "node:tls";
import { nodeAddress, type Node } from "../api/index.ts";
import type { InstanceContext, UpstreamAddress } from "./types.ts";

/** The address local administration uses: the node itself, never a network. */
export const LOOPBACK = "127.0.0.1";

/**
 * The address a node's databases listen on and are reached at, from the node's advertised address (`--advertise`)
 * when it is a usable IP address; loopback for the single-machine default (`127.0.0.1`, `localhost`), for a wildcard
 * (`0.0.0.0`, `::`, which names no one host) and for a DNS name (Redis binds IP addresses only): such a node's
 * databases stay on loopback.
 */
export function databaseAddress(advertise: string): string {
  if (isIP(advertise) === 0) return LOOPBACK;
  return advertise === "0.0.0.0" || advertise === "::" ? LOOPBACK : advertise;
}

/**
 * The addresses clients reach a cluster's instances at, through any node (pure): every node serves each cluster's
 * endpoints on its database address (ADR 0025), and exposed endpoints on its external address; sorted, unique.
 */
export function clientAddresses(nodes: readonly Node[]): string[] {
  const addresses = nodes.flatMap((n) => {
    const advertise = nodeAddress(n, "Advertise");
    const external = nodeAddress(n, "ExternalIP");
    return [...(advertise === undefined ? [] : [databaseAddress(advertise)]), ...(external === undefined ? [] : [external])];
  });
  return [...new Set(addresses.filter((a) => isIP(a) !== 0))].sort();
}

/**
 * The names a user's certificate must carry (pure): loopback (the node agent administers over 127.0.0.1 and checks
 * the name, as Redis and MariaDB clients do) and every address clients reach the instance at.
 */
export function userCertificateNames(nodes: readonly Node[], ownAddress?: string): string[] {
  return [...new Set([LOOPBACK, ...(ownAddress === undefined ? [] : [ownAddress]), ...clientAddresses(nodes)])];
}

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
