/**
 * `holdfast init`: everything a home needs before the server may start — TLS (a private CA and the
 * serving certificate), the secret keyring, the built-in roles, and the first administrator with a
 * generated password, a TOTP secret and recovery codes. There are no default credentials.
 * With a store on etcd, the home is the first control-plane node: users, keyring and objects go to etcd.
 */
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { homePaths, type HomePaths } from "../config/index.ts";
import { DEFAULT_API_HOST, DEFAULT_API_PORT } from "../config/index.ts";
import { EMBEDDED_STORE, isAdvertiseAddress, resolveNodeName, writeControlPlaneConfig, writeEtcdTls, type ControlPlaneConfig, type EtcdTlsMaterial } from "../controlplane/index.ts";
import { AlreadyExistsError, InputError } from "../errors/index.ts";
import { bindClusterAdmin, createTlsMaterial, ensureBuiltinRoles } from "../security/index.ts";
import { EtcdClient, parseEtcdUrl } from "../store/index.ts";
import { etcdConnection, openSharedState } from "./shared-state.ts";

export interface InitOptions {
  home: string;
  admin: string;
  /** A shared store on etcd (`etcd://H1:2379,...`) and the TLS material to reach it; absent: the embedded store. */
  store?: { url: string; tls: EtcdTlsMaterial };
  /** This node's name (etcd only; default: the host name). */
  nodeName?: string;
  /** The address other nodes and clients reach this node at: put into the serving certificate. */
  advertise?: string;
}

/** What init shows once: the administrator's credentials and how to reach the server. */
export interface InitResult {
  username: string;
  password: string;
  totpSecret: string;
  otpauthUri: string;
  recoveryCodes: string[];
  server: string;
  caFile: string;
}

/** Is this home initialised (TLS material, and the user database or the store configuration of a node on etcd)? */
export function isInitialised(home: string): boolean {
  const paths = homePaths(home);
  return existsSync(paths.tls.serverCertificate) && (existsSync(paths.authStore) || existsSync(paths.controlPlaneConfig));
}

/** Initialise a home; refuses a home that is already initialised. */
export async function initHome(options: InitOptions): Promise<InitResult> {
  const paths = homePaths(options.home);
  if (isInitialised(options.home)) throw new AlreadyExistsError(`${options.home} is already initialised; users are managed with holdfast user, keys with holdfast secrets`);
  if (options.advertise !== undefined && !isAdvertiseAddress(options.advertise)) throw new InputError(`--advertise ${options.advertise}: give the IP address or DNS name other nodes reach this one at`);
  await mkdir(paths.home, { recursive: true, mode: 0o700 });
  const config = options.store === undefined ? EMBEDDED_STORE : await etcdConfig(paths, options, options.store);
  if (!existsSync(paths.tls.caCertificate)) await createTlsMaterial(paths.tls, new Date(), options.advertise === undefined ? [] : [options.advertise]);
  const shared = await openSharedState(paths, config, { existing: false });
  try {
    await ensureBuiltinRoles(shared.store);
    const secrets = await shared.security.auth.createUser({ username: options.admin });
    await bindClusterAdmin(shared.store, options.admin);
    if (config.store.type === "etcd") await writeControlPlaneConfig(paths, config);
    return {
      username: secrets.username,
      password: secrets.password,
      totpSecret: secrets.totpSecret,
      otpauthUri: secrets.otpauthUri,
      recoveryCodes: secrets.recoveryCodes,
      server: `https://${DEFAULT_API_HOST}:${DEFAULT_API_PORT}`,
      caFile: paths.tls.caCertificate,
    };
  } finally {
    await shared.close();
  }
}

/** The configuration of a first node on etcd; refuses an etcd that already holds a control plane. */
async function etcdConfig(paths: HomePaths, options: InitOptions, store: NonNullable<InitOptions["store"]>): Promise<ControlPlaneConfig> {
  const endpoints = parseEtcdUrl(store.url);
  const tls = await writeEtcdTls(paths, store.tls);
  const etcd = { type: "etcd", endpoints, tls } as const;
  const client = new EtcdClient(etcdConnection(paths, etcd));
  try {
    const { count } = await client.range({ key: "/holdfast/", prefix: true, countOnly: true });
    if (count > 0) {
      throw new AlreadyExistsError(`etcd at ${store.url} already holds a Holdfast control plane: add this machine to it with the command "holdfast node join-command" prints on one of its nodes, or give another etcd`);
    }
  } finally {
    await client.close();
  }
  return { store: etcd, nodeName: resolveNodeName(options.nodeName, undefined), ...(options.advertise === undefined ? {} : { advertise: options.advertise }) };
}
