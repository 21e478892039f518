/** Where Holdfast keeps its files, resolved once at start-up and passed down. */
import { homedir, tmpdir } from "node:os";
import { join, resolve } from "node:path";

/** Default API server address: loopback unless the operator allows remote clients. */
export const DEFAULT_API_HOST = "127.0.0.1";
export const DEFAULT_API_PORT = 7420;

/** Range database ports are allocated from (below Linux' ephemeral range). */
export const DATABASE_PORT_RANGE = { first: 20000, last: 29999 } as const;

/** Range the database exporters' ports are allocated from, host-wide like the databases' (ADR 0035). */
export const EXPORTER_PORT_RANGE = { first: 17000, last: 17999 } as const;

/** Range stable endpoints (read-write, read-only) are allocated from, as Kubernetes' NodePorts. */
export const ENDPOINT_PORT_RANGE = { first: 30000, last: 32767 } as const;

/**
 * Host-wide port reservations shared by every home on this machine (so two homes never hand out one port):
 * `/var/lib/holdfast/ports` for root, a directory of the user's own under the temporary directory otherwise.
 */
export function portReservationsDirectory(uid: number = process.getuid?.() ?? 0): string {
  return uid === 0 ? "/var/lib/holdfast/ports" : join(tmpdir(), `holdfast-${uid}`, "ports");
}

/** The Holdfast home: `--home`, else `HOLDFAST_HOME`, else `~/.holdfast`. */
export function resolveHome(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const chosen = flag ?? env["HOLDFAST_HOME"] ?? join(homedir(), ".holdfast");
  return resolve(chosen);
}

/** Every path inside the home, in one place. */
export interface HomePaths {
  home: string;
  /** Embedded store (sqlite), mode 0600. */
  store: string;
  /** Directory of key material, mode 0700. */
  keysDir: string;
  /** Secret-encryption keyring, mode 0600. */
  secretKeyring: string;
  /** Key-encryption key wrapping the keyring shared in etcd (32 bytes, mode 0600); only on a control plane on etcd. */
  keyEncryptionKey: string;
  /** Written by a running server: its URL and pid, read by the CLI. */
  serverInfo: string;
  /** Logs of the control plane and of every instance. */
  logsDir: string;
  serverLog: string;
  /** Root of instance directories: `<instancesDir>/<namespace>/<instance>`. */
  instancesDir: string;
  /** Per-instance log files: `<instanceLogsDir>/<namespace>/<instance>.log`. */
  instanceLogsDir: string;
  /** TLS: the private CA (certificate public, key 0600) and the API server's serving pair. */
  tls: { directory: string; caCertificate: string; caKey: string; serverCertificate: string; serverKey: string };
  /** Users, password hashes, TOTP secrets (encrypted), sessions and API token hashes. Mode 0600. */
  authStore: string;
  /** The tamper-evident audit log and its checkpoint. */
  auditDir: string;
  /** Audit signing (Ed25519) and HMAC keys. */
  auditSigningKey: string;
  auditHmacKey: string;
  /** The CLI's own configuration: server, CA, session token. Mode 0600. */
  cliConfig: string;
  /** Root of the default local backup repository (BackupRepo `local`), mode 0700. */
  backupsDir: string;
  /** Temporary files of running backups (credentials for the tools); owned by the service user, emptied at start. */
  backupScratchDir: string;
  /** Compiled modules of the node agent's restore processes (Node's compile cache), kept across restores; mode 0700. */
  moduleCacheDir: string;
  /** Which store this node uses (absent: the embedded one), its node name and advertised address. Mode 0600. */
  controlPlaneConfig: string;
  /** The etcd client's TLS material (CA, client certificate, client key), copied in by init or a join. */
  etcdTls: { directory: string; caCertificate: string; clientCertificate: string; clientKey: string };
}

export function homePaths(home: string): HomePaths {
  return {
    home,
    store: join(home, "store.db"),
    keysDir: join(home, "keys"),
    secretKeyring: join(home, "keys", "secrets.keyring.json"),
    keyEncryptionKey: join(home, "keys", "key-encryption.key"),
    serverInfo: join(home, "server.json"),
    logsDir: join(home, "logs"),
    serverLog: join(home, "logs", "server.log"),
    instancesDir: join(home, "instances"),
    instanceLogsDir: join(home, "logs", "instances"),
    tls: {
      directory: join(home, "tls"),
      caCertificate: join(home, "tls", "ca.crt"),
      caKey: join(home, "tls", "ca.key"),
      serverCertificate: join(home, "tls", "server.crt"),
      serverKey: join(home, "tls", "server.key"),
    },
    authStore: join(home, "auth.db"),
    auditDir: join(home, "audit"),
    auditSigningKey: join(home, "keys", "audit-signing.pem"),
    auditHmacKey: join(home, "keys", "audit-hmac.key"),
    cliConfig: join(home, "config.json"),
    backupsDir: join(home, "backups"),
    backupScratchDir: join(home, "run", "backup"),
    moduleCacheDir: join(home, "cache", "modules"),
    controlPlaneConfig: join(home, "control-plane.json"),
    etcdTls: {
      directory: join(home, "etcd"),
      caCertificate: join(home, "etcd", "ca.crt"),
      clientCertificate: join(home, "etcd", "client.crt"),
      clientKey: join(home, "etcd", "client.key"),
    },
  };
}
