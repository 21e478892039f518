/**
 * `holdfast init --join`: make a home for another control-plane node of an existing cluster. Nothing secret is sent
 * before the server's CA matches the hash the administrator copied; the node's private key is made here and never
 * leaves it; the answer (CA certificate, serving certificate, store configuration, etcd client material and the
 * key-encryption key) is written into the new home with secret files 0600.
 */
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { homePaths } from "../config/index.ts";
import { discoverClusterCa, isAdvertiseAddress, parseCaCertHash, parseJoinUrl, requestJoin, writeControlPlaneConfig, writeEtcdTls } from "../controlplane/index.ts";
import { AlreadyExistsError, InputError } from "../errors/index.ts";
import { createNodeKeyAndCsr, importKeyEncryptionKey, writeJoinedTlsMaterial } from "../security/index.ts";

/** What `holdfast init --join` is given. */
export interface JoinOptions {
  home: string;
  /** `https://HOST:PORT` of a node of the cluster. */
  join: string;
  token: string;
  caCertHash: string;
  nodeName: string;
  /** This node's address (IP or DNS name) other nodes and clients reach it at. */
  advertise: string;
}

/** What the new node was given, to show. */
export interface JoinResult {
  nodeName: string;
  advertise: string;
  caFile: string;
  storeEndpoints: string[];
}

/** Join: discovery, checks, then the files of the new home. Refuses a home that is already initialised. */
export async function joinHome(options: JoinOptions): Promise<JoinResult> {
  const paths = homePaths(options.home);
  if (existsSync(paths.tls.serverCertificate) || existsSync(paths.controlPlaneConfig)) {
    throw new AlreadyExistsError(`${options.home} is already initialised; join with a new, empty --home`);
  }
  if (!isAdvertiseAddress(options.advertise)) throw new InputError(`--advertise ${options.advertise}: give the IP address or DNS name other nodes reach this one at`);
  const url = parseJoinUrl(options.join);
  const ca = await discoverClusterCa(url, parseCaCertHash(options.caCertHash));
  const { keyPem, csrPem } = await createNodeKeyAndCsr(options.nodeName);
  const answer = await requestJoin(url, ca, { token: options.token, nodeName: options.nodeName, advertise: options.advertise, csr: csrPem });
  if (answer.store.type !== "etcd") throw new InputError(`${url.origin} does not run on etcd; only nodes of an etcd-backed cluster can be joined`);
  await mkdir(paths.home, { recursive: true, mode: 0o700 });
  await writeJoinedTlsMaterial(paths.tls, { ca: answer.caCertificate, cert: answer.certificate, key: keyPem, caKey: answer.caKey });
  const tls = await writeEtcdTls(paths, answer.etcdTls);
  await importKeyEncryptionKey(paths.keyEncryptionKey, Buffer.from(answer.keyEncryptionKey, "base64"));
  await writeControlPlaneConfig(paths, { store: { ...answer.store, tls }, nodeName: options.nodeName, advertise: options.advertise });
  return { nodeName: options.nodeName, advertise: options.advertise, caFile: paths.tls.caCertificate, storeEndpoints: answer.store.endpoints };
}
