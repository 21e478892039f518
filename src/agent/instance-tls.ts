/**
 * An instance's TLS files: a serving certificate of its own, signed by the cluster CA for its node's address and its
 * name, its key (0600, its OS user's), and the CA that signed it and its peers. Issued before the first start, and
 * again before a start when the address changed or less than RENEW_BEFORE_MS of validity is left.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { HomePaths } from "../config/index.ts";
import { UnavailableError } from "../errors/index.ts";
import type { Instance } from "../api/index.ts";
import type { ClientTrust, HostAccess, InstanceLayout, InstanceTls } from "../engines/index.ts";
import { canIssueCertificates, certificateCovers, issueInstanceCertificate } from "../security/index.ts";
import { instanceLayout } from "./layout.ts";

/** Renew a certificate with less than 30 days left. */
export const RENEW_BEFORE_MS = 30 * 86_400_000;

/** Where an instance's TLS files live: `<root>/tls/`, beside its data and run directories. */
export function instanceTlsFiles(layout: Pick<InstanceLayout, "rootDirectory">): InstanceTls {
  const directory = join(layout.rootDirectory, "tls");
  return { certificateFile: join(directory, "server.crt"), keyFile: join(directory, "server.key"), caFile: join(directory, "ca.crt") };
}

/** The names an instance's certificate must carry: its address (what peers and clients connect to) and its name. */
export function instanceCertificateNames(instanceName: string, address: string): string[] {
  return [address, instanceName];
}

async function readOrEmpty(path: string): Promise<string> {
  return readFile(path, "utf8").catch(() => "");
}

/** Is what is on disk usable: a certificate for `names` with time left, and the home's current CA beside it? */
async function current(files: InstanceTls, caPem: string, names: readonly string[], now: Date): Promise<boolean> {
  const [certificate, ca, key] = await Promise.all([readOrEmpty(files.certificateFile), readOrEmpty(files.caFile), readOrEmpty(files.keyFile)]);
  return ca === caPem && key !== "" && certificateCovers(certificate, names, now, RENEW_BEFORE_MS);
}

/**
 * Make sure the TLS files of the instance in `layout` serve `names`, issuing a new key and certificate with the home's
 * CA when they do not; written as the instance's OS user (`host`). True when new ones were written.
 * UnavailableError on a node that does not hold the CA key (see docs/security.md).
 */
export async function ensureInstanceTls(paths: HomePaths, layout: InstanceLayout, names: readonly string[], host: HostAccess, now: Date = new Date()): Promise<boolean> {
  const files = instanceTlsFiles(layout);
  const caPem = await readFile(paths.tls.caCertificate, "utf8");
  if (await current(files, caPem, names, now)) return false;
  if (!canIssueCertificates(paths.tls)) {
    throw new UnavailableError(`cannot issue a TLS certificate for ${layout.instanceName}: this node does not hold the cluster CA key (tls/ca.key); it joined before joined nodes received the key: copy tls/ca.key from another node (mode 0600)`);
  }
  const issued = await issueInstanceCertificate(paths.tls, layout.instanceName, names, now);
  await host.mkdir(join(layout.rootDirectory, "tls"));
  // The key first: a certificate on disk always has its key.
  await host.writeFile(files.keyFile, issued.key, 0o600);
  // Private like everything else the instance's user writes (umask 077): only that user and root read them.
  await host.writeFile(files.certificateFile, issued.cert, 0o600);
  await host.writeFile(files.caFile, issued.ca, 0o600);
  return true;
}

/** What this node agent checks an instance's certificate against, by instance. */
export type InstanceTrust = (instance: Instance) => ClientTrust;

/**
 * The CA this node agent's own connections to `instance` trust: the instance's `ca.crt` (the user's CA bundle, then the
 * cluster CA) when it serves the certificate of a `UserProvided` Secret, else the cluster CA (ADR 0042, "Since").
 */
export function instanceTrust(paths: HomePaths, instance: Instance): ClientTrust {
  if (instance.spec.clientTls?.issuer !== "UserProvided") return { caFile: paths.tls.caCertificate };
  return { caFile: instanceTlsFiles(instanceLayout(paths, instance)).caFile };
}
