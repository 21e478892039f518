/**
 * The joining side of kubeadm's discovery: fetch the cluster CA without trusting anything, check it against the
 * `--ca-cert-hash` the administrator copied from a trusted node, and only then, over TLS pinned to that CA (the
 * server's certificate must chain to it and name the host), present the token and the certificate request.
 */
import { Agent, fetch } from "undici";
import { z } from "zod";
import { AuthenticationError, InputError, UnavailableError } from "../errors/index.ts";
import { caCertificateHash } from "../security/index.ts";
import { NODE_JOIN_API, type NodeJoinRequest } from "../server/index.ts";
import { nodeJoinAnswerSchema, type NodeJoinAnswer } from "./node-join.ts";

const HASH = /^sha256:[0-9a-f]{64}$/;
const clusterInfoSchema = z.object({ caCertificate: z.string() });
const statusSchema = z.object({ message: z.string() });

/** Check the shape of `--ca-cert-hash` (sha256:64 hex digits). */
export function parseCaCertHash(raw: string): string {
  const hash = raw.trim().toLowerCase();
  if (!HASH.test(hash)) throw new InputError(`--ca-cert-hash "${raw}" must be sha256:<64 hex digits>, as holdfast node join-command prints it`);
  return hash;
}

/** The server's URL, checked: https with a host and port, nothing else. */
export function parseJoinUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new InputError(`--join ${raw}: use https://HOST:PORT, as holdfast node join-command prints it`);
  }
  if (url.protocol !== "https:" || url.pathname.replace(/\/+$/, "") !== "" || url.search !== "" || url.username !== "") {
    throw new InputError(`--join ${raw}: use https://HOST:PORT, as holdfast node join-command prints it`);
  }
  return url;
}

/** Fetch the cluster CA (unauthenticated, untrusted) and return it only if its public-key hash is `expectedHash`. */
export async function discoverClusterCa(url: URL, expectedHash: string): Promise<string> {
  const agent = new Agent({ connect: { rejectUnauthorized: false } });
  try {
    const response = await fetch(new URL(`${NODE_JOIN_API}/clusterinfo`, url), { dispatcher: agent, headers: { accept: "application/json" } }).catch((error: unknown) => {
      throw new UnavailableError(`cannot reach ${url.origin}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    });
    const parsed = clusterInfoSchema.safeParse(await response.json().catch(() => undefined));
    if (!response.ok || !parsed.success) throw new UnavailableError(`${url.origin} did not answer with the cluster CA (HTTP ${response.status}); is it a holdfast server on etcd?`);
    const actual = caCertificateHash(parsed.data.caCertificate);
    // The hash is public (it is printed in the join command): a plain comparison leaks nothing.
    if (actual !== expectedHash) {
      throw new AuthenticationError(`refused: the CA of ${url.origin} has hash ${actual}, not the --ca-cert-hash ${expectedHash}; the token was not sent. Check the address, or get a fresh join command from a node you trust`);
    }
    return parsed.data.caCertificate;
  } finally {
    await agent.close();
  }
}

/** Present the token and CSR over TLS pinned to `ca`; the answer is the new node's material. */
export async function requestJoin(url: URL, ca: string, request: NodeJoinRequest): Promise<NodeJoinAnswer> {
  const agent = new Agent({ connect: { ca } });
  try {
    const response = await fetch(new URL(`${NODE_JOIN_API}/nodejoins`, url), {
      method: "POST",
      dispatcher: agent,
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify(request),
    }).catch((error: unknown) => {
      throw new UnavailableError(`cannot reach ${url.origin} over TLS checked against the cluster CA: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    });
    const body: unknown = await response.json().catch(() => undefined);
    if (!response.ok) {
      const message = statusSchema.safeParse(body).data?.message ?? `HTTP ${response.status}`;
      throw response.status === 401 ? new AuthenticationError(`the join was refused: ${message}`) : new UnavailableError(`the join failed: ${message}`);
    }
    return nodeJoinAnswerSchema.parse(body);
  } finally {
    await agent.close();
  }
}
