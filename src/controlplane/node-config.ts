/**
 * `<home>/control-plane.json` (0600): which store this node uses and who it is. Written by `holdfast init --store`
 * or `holdfast init --join`; read once by `holdfast server`. Absent, the node uses the embedded store, as always.
 * The etcd client's TLS material lives beside it in `<home>/etcd/` (keys 0600), never inside this file.
 */
import { existsSync } from "node:fs";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { z } from "zod";
import { nodeNameSchema } from "../api/index.ts";
import type { HomePaths } from "../config/index.ts";
import { InputError, InvalidError } from "../errors/index.ts";

const HOST_PORT = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

/** How the etcd client authenticates: no TLS, TLS checking the server against a CA, or that plus a client certificate. */
export const etcdTlsModeSchema = z.enum(["none", "server", "mutual"]);

const endpointSchema = z.string().regex(HOST_PORT, "must be HOST:PORT");

/** The store a node uses. */
export const storeConfigSchema = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("sqlite") }),
  z.strictObject({ type: z.literal("etcd"), endpoints: z.array(endpointSchema).min(1), tls: etcdTlsModeSchema }),
]);

/** The whole file. */
export const controlPlaneConfigSchema = z.strictObject({
  store: storeConfigSchema,
  nodeName: nodeNameSchema.optional(),
  advertise: z.string().optional(),
});

export type StoreConfig = z.infer<typeof storeConfigSchema>;
export type EtcdStoreConfig = Extract<StoreConfig, { type: "etcd" }>;
export type ControlPlaneConfig = z.infer<typeof controlPlaneConfigSchema>;

/** What a home uses when it has no control-plane.json: the embedded store. */
export const EMBEDDED_STORE: ControlPlaneConfig = { store: { type: "sqlite" } };

/** The home's configuration; the embedded store when the file is absent; a damaged file is an error, never a silent default. */
export async function readControlPlaneConfig(paths: HomePaths): Promise<ControlPlaneConfig> {
  if (!existsSync(paths.controlPlaneConfig)) return EMBEDDED_STORE;
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(paths.controlPlaneConfig, "utf8"));
  } catch (error) {
    throw new InvalidError(`${paths.controlPlaneConfig} is not valid JSON; restore it from a backup or from another node's (it names the store)`, { cause: error });
  }
  const result = controlPlaneConfigSchema.safeParse(parsed);
  if (!result.success) throw new InvalidError(`${paths.controlPlaneConfig} is not a valid control-plane configuration: ${result.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join(", ")}`);
  return result.data;
}

/** Write the home's configuration, 0600. */
export async function writeControlPlaneConfig(paths: HomePaths, config: ControlPlaneConfig): Promise<void> {
  await writeFile(paths.controlPlaneConfig, `${JSON.stringify(controlPlaneConfigSchema.parse(config), null, 2)}\n`, { mode: 0o600 });
  await chmod(paths.controlPlaneConfig, 0o600);
}

/** A node name: `--node-name`, else the recorded one, else the host name (lower-cased), checked as a DNS subdomain. */
export function resolveNodeName(flag: string | undefined, recorded: string | undefined): string {
  const name = flag ?? recorded ?? hostname().toLowerCase();
  if (!nodeNameSchema.safeParse(name).success) throw new InputError(`node name "${name}" must be a DNS subdomain (lower-case letters, digits, "-" and "."); pass --node-name`);
  return name;
}

/** The etcd client's TLS material of a home, as PEM, for the mode recorded. */
export interface EtcdTlsMaterial {
  ca?: string | undefined;
  cert?: string | undefined;
  key?: string | undefined;
}

/** Read the etcd TLS files the mode needs. */
export async function readEtcdTls(paths: HomePaths, mode: EtcdStoreConfig["tls"]): Promise<EtcdTlsMaterial> {
  if (mode === "none") return {};
  const ca = await readFile(paths.etcdTls.caCertificate, "utf8");
  if (mode === "server") return { ca };
  const [cert, key] = await Promise.all([readFile(paths.etcdTls.clientCertificate, "utf8"), readFile(paths.etcdTls.clientKey, "utf8")]);
  return { ca, cert, key };
}

/** Write etcd TLS material into the home (the key 0600) and return the mode it gives. */
export async function writeEtcdTls(paths: HomePaths, material: EtcdTlsMaterial): Promise<EtcdStoreConfig["tls"]> {
  if (material.ca === undefined) {
    if (material.cert !== undefined || material.key !== undefined) throw new InputError("--etcd-cert and --etcd-key need --etcd-ca (the CA that signed etcd's certificates)");
    return "none";
  }
  if ((material.cert === undefined) !== (material.key === undefined)) throw new InputError("--etcd-cert and --etcd-key go together");
  await mkdir(paths.etcdTls.directory, { recursive: true, mode: 0o700 });
  await writeFile(paths.etcdTls.caCertificate, material.ca, { mode: 0o644 });
  if (material.cert === undefined || material.key === undefined) return "server";
  await writeFile(paths.etcdTls.clientCertificate, material.cert, { mode: 0o644 });
  await writeFile(paths.etcdTls.clientKey, material.key, { mode: 0o600 });
  await chmod(paths.etcdTls.clientKey, 0o600);
  return "mutual";
}
