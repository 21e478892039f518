/**
 * The serving side of a join: what a control-plane node hands a new node that presents a valid join token over TLS
 * it has checked against the CA hash. The new node gets the CA certificate and key (as a control-plane join of
 * kubeadm does: every node can then serve joins and issue its instances' certificates), its own serving certificate
 * for its key, the store configuration with the etcd client material, and the key-encryption key that unwraps the
 * shared keyring. See ADR 0019 and ADR 0028.
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { isIP } from "node:net";
import { z } from "zod";
import type { HomePaths } from "../config/index.ts";
import { InputError, UnavailableError } from "../errors/index.ts";
import { caCertificateHash, exportKeyEncryptionKey, issueServingCertificate } from "../security/index.ts";
import type { NodeJoinApi, NodeJoinRequest } from "../server/index.ts";
import type { Store } from "../store/index.ts";
import { consumeJoinToken, createJoinToken } from "./join-token.ts";
import { readEtcdTls, storeConfigSchema, type ControlPlaneConfig } from "./node-config.ts";

const DNS_LABEL = /^[A-Za-z0-9-]{1,63}$/;

/** What a joining node receives (parsed with this schema on its side). */
export const nodeJoinAnswerSchema = z.strictObject({
  caCertificate: z.string(),
  caKey: z.string(),
  certificate: z.string(),
  store: storeConfigSchema,
  etcdTls: z.strictObject({ ca: z.string().optional(), cert: z.string().optional(), key: z.string().optional() }),
  keyEncryptionKey: z.string(),
});
export type NodeJoinAnswer = z.infer<typeof nodeJoinAnswerSchema>;

/** What serving joins needs. */
export interface NodeJoinDeps {
  /** The shared store (not fenced: joins are API requests, served by any node). */
  store: Store;
  paths: HomePaths;
  config: ControlPlaneConfig;
  /** The address clients reach this node's API at, `https://HOST:PORT` (known once the server listens). */
  publicUrl(): string;
}

/** Is `address` an IP address or a DNS name (what can go in a certificate's SAN)? */
export function isAdvertiseAddress(address: string): boolean {
  const label = (part: string): boolean => DNS_LABEL.test(part) && !part.startsWith("-") && !part.endsWith("-");
  return isIP(address) !== 0 || (address.length <= 253 && address.split(".").every(label));
}

/** The join endpoints' operations for this node. */
export function nodeJoinService(deps: NodeJoinDeps): NodeJoinApi {
  return {
    clusterInfo: async () => {
      const caCertificate = await readFile(deps.paths.tls.caCertificate, "utf8");
      return { caCertificate, caCertHash: caCertificateHash(caCertificate) };
    },
    createJoinCommand: async (ttlSeconds) => {
      requireCaKey(deps.paths);
      const minted = await createJoinToken(deps.store, ttlSeconds * 1000);
      const hash = caCertificateHash(await readFile(deps.paths.tls.caCertificate, "utf8"));
      return { command: `holdfast init --join ${deps.publicUrl()} --token ${minted.token} --ca-cert-hash ${hash}`, expiresAt: minted.expiresAt };
    },
    join: (request) => join(deps, request),
  };
}

async function join(deps: NodeJoinDeps, request: NodeJoinRequest): Promise<NodeJoinAnswer> {
  requireCaKey(deps.paths);
  if (deps.config.store.type !== "etcd") throw new InputError("this node runs on the embedded store: other nodes cannot share it");
  if (!isAdvertiseAddress(request.advertise)) throw new InputError(`advertise address "${request.advertise}" is neither an IP address nor a DNS name`);
  let certificate: string;
  try {
    certificate = await issueServingCertificate(deps.paths.tls, request.csr, [request.advertise]);
  } catch (error) {
    throw new InputError("the certificate signing request is not valid (a PEM PKCS#10 request signed by its own key)", { cause: error });
  }
  // The token is spent only once everything the node sent checked out.
  await consumeJoinToken(deps.store, request.token, request.nodeName);
  return {
    caCertificate: await readFile(deps.paths.tls.caCertificate, "utf8"),
    caKey: await readFile(deps.paths.tls.caKey, "utf8"),
    certificate,
    store: deps.config.store,
    etcdTls: await readEtcdTls(deps.paths, deps.config.store.tls),
    keyEncryptionKey: (await exportKeyEncryptionKey(deps.paths.keyEncryptionKey)).toString("base64"),
  };
}

function requireCaKey(paths: HomePaths): void {
  if (!existsSync(paths.tls.caKey)) {
    throw new UnavailableError("this node cannot sign certificates for new nodes: it does not hold the cluster CA key (it joined before joined nodes received it): copy tls/ca.key from another node (mode 0600), or run holdfast node join-command against one that has it");
  }
}
