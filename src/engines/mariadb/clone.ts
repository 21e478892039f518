/**
 * A new replica's data: a consistent `mariadb-dump` of the running primary, taken over the network by the replica's own
 * node agent (the only door to either instance; mariabackup would have to read the primary's data directory, on
 * another machine), loaded into a freshly initialised data directory by a private server that listens on nothing but
 * its socket and writes no binlog. The dump sets `gtid_slave_pos` to the primary's position at the snapshot, so the
 * replica continues exactly from there.
 */
import { readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { UnavailableError, errorMessage } from "../../errors/index.ts";
import { findExecutable } from "../host-binaries.ts";
import { markerContent, markerPath } from "../marker.ts";
import type { CommandSpec, HostAccess, InstanceContext, ReplicationCredentials, UpstreamAddress } from "../types.ts";
import { clientOptionFile, clientTlsArgs, mariadbClientPath, runMariadbScript } from "./client.ts";
import { PRIVATE_FILE_MODES, mariadbConfPath, mariadbSocketPath } from "./config.ts";
import { createDataDirectory } from "./initialize.ts";
import { replicationAccountSql } from "./replication-sql.ts";
import { markRole } from "./role-marker.ts";

const LOADER_READY_TIMEOUT_MS = 60_000;
const POLL_MS = 100;

/** The option file holding the administrator's password for the clone's tools, in the run directory (0600). */
function cloneOptionFile(context: InstanceContext): string {
  return join(context.runDirectory, "clone-client.cnf");
}

/** `mariadb-dump` of every database of `upstream`: one snapshot, its GTID position as `SET GLOBAL gtid_slave_pos`. */
export function dumpCommand(dump: string, optionFile: string, upstream: UpstreamAddress, caFile: string | undefined): CommandSpec {
  return {
    command: dump,
    args: [
      `--defaults-extra-file=${optionFile}`, `--host=${upstream.host}`, `--port=${upstream.port}`, "--protocol=TCP", ...clientTlsArgs(caFile === undefined ? undefined : { caFile }),
      "--all-databases", "--single-transaction", "--master-data=1", "--gtid", "--routines", "--events", "--triggers", "--hex-blob", "--quick",
      // The replica's own replication position is set by the dump's header, not overwritten by the primary's table.
      "--ignore-table=mysql.gtid_slave_pos", "--flush-privileges",
    ],
  };
}

/** The client into the private loader server, over its socket: `sql` (no secrets), or without it the SQL on its stdin. */
function loadCommand(context: InstanceContext, optionFile: string, sql?: string): CommandSpec {
  const base = [`--defaults-extra-file=${optionFile}`, `--socket=${mariadbSocketPath(context)}`, "--protocol=SOCKET", "--batch", "--skip-column-names"];
  return { command: mariadbClientPath(), args: sql === undefined ? base : [...base, `--execute=${sql}`] };
}

/**
 * The loader server: the instance's configuration, but no TCP, no binlog, no replication threads. Through `sh`, which
 * sets the umask mariadbd creates its files with (the dump's CHANGE MASTER writes master.info), then execs it.
 */
function loaderCommand(context: InstanceContext): CommandSpec {
  const server = join(context.version.binDir, "mariadbd");
  return { command: "/bin/sh", args: ["-c", 'umask 0077 && exec "$0" "$@"', server, `--defaults-file=${mariadbConfPath(context)}`, "--skip-networking", "--skip-log-bin", "--skip-slave-start"], env: { ...PRIVATE_FILE_MODES } };
}

async function waitForLoader(context: InstanceContext, optionFile: string, host: HostAccess, exited: () => boolean): Promise<void> {
  const deadline = Date.now() + LOADER_READY_TIMEOUT_MS;
  for (;;) {
    try {
      await host.run(loadCommand(context, optionFile, "SELECT 1"), { cwd: context.runDirectory, timeoutMs: 5000 });
      return;
    } catch (error) {
      if (exited() || Date.now() > deadline) throw new UnavailableError(`the loader server of ${context.instanceName} did not start: ${errorMessage(error)}`, { cause: error });
      await sleep(POLL_MS);
    }
  }
}

/** Run the loader server, stream the dump of `upstream` into it, and shut it down cleanly. */
async function loadDump(context: InstanceContext, upstream: UpstreamAddress, optionFile: string, host: HostAccess): Promise<void> {
  const dump = (await findExecutable("mariadb-dump")) ?? "/usr/bin/mariadb-dump";
  let exited = false;
  await host.runStreamingOut(loaderCommand(context), async (serverOutput) => {
    serverOutput.resume();
    serverOutput.once("close", () => (exited = true));
    await waitForLoader(context, optionFile, host, () => exited);
    await host.runStreamingOut(dumpCommand(dump, optionFile, upstream, context.tls?.caFile), (dumped) => host.runStreamingIn(loadCommand(context, optionFile), dumped, { cwd: context.runDirectory }), { cwd: context.runDirectory });
    await host.run(loadCommand(context, optionFile, "SHUTDOWN"), { cwd: context.runDirectory, timeoutMs: 120_000 });
  }, { cwd: context.runDirectory });
}

/** Create (or reset) the replication account on the primary: it may have been rotated, or this primary restored. */
export async function ensureReplicationAccount(context: InstanceContext, upstream: UpstreamAddress, credentials: ReplicationCredentials): Promise<void> {
  const trust = context.tls === undefined ? undefined : { caFile: context.tls.caFile };
  await runMariadbScript({ host: upstream.host, port: upstream.port, trust }, credentials.admin, replicationAccountSql(credentials.replication));
}

/**
 * Fill the empty data directory of `context` with a copy of the primary at `upstream` and mark it initialised last:
 * a clone cut short is never taken for a finished one (the node agent empties the directory and starts again).
 */
export async function cloneFromPrimary(context: InstanceContext, upstream: UpstreamAddress, credentials: ReplicationCredentials, host: HostAccess): Promise<void> {
  await ensureReplicationAccount(context, upstream, credentials);
  await createDataDirectory(context, [credentials.admin], host);
  const optionFile = cloneOptionFile(context);
  await host.writeFile(optionFile, clientOptionFile(credentials.admin), 0o600);
  try {
    await loadDump(context, upstream, optionFile, host);
  } catch (error) {
    throw new UnavailableError(`cloning ${context.instanceName} from ${upstream.host}:${upstream.port} failed: ${errorMessage(error)}; the clone starts again from scratch`, { cause: error });
  } finally {
    await rm(optionFile, { force: true });
  }
  // A copy of a primary is a replica from its first start: it continues from the dump's GTID position, not its own binlog.
  await markRole(context, "secondary", host);
  await host.writeFile(markerPath(context.dataDirectory), markerContent(), 0o600);
}

/** Empty the data directory of a diverged replica for a new clone, its marker first: a clone cut short never looks initialised. */
export async function emptyDataDirectory(context: InstanceContext): Promise<void> {
  await rm(markerPath(context.dataDirectory), { force: true });
  const entries = await readdir(context.dataDirectory).catch(() => []);
  await Promise.all(entries.map((entry) => rm(join(context.dataDirectory, entry), { recursive: true, force: true })));
}
