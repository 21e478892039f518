/**
 * A new replica's data: a consistent `mariadb-dump` of the running primary, taken over the network by the replica's own
 * node agent (the only door to either instance; mariabackup would have to read the primary's data directory, on
 * another machine), loaded into a freshly initialised data directory by a private server that listens on nothing but
 * its socket and writes no binlog. The dump sets `gtid_slave_pos` to the primary's position at the snapshot, so the
 * replica continues exactly from there.
 */
import { readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { UnavailableError, errorMessage } from "../../errors/index.ts";
import { findExecutable } from "../host-binaries.ts";
import { markerContent, markerPath } from "../marker.ts";
import { HOLDFAST_SESSIONS } from "../own-sessions.ts";
import type { CommandSpec, HostAccess, InstanceContext, ReplicationCredentials, UpstreamAddress } from "../types.ts";
import { clientOptionFile, clientTlsArgs, runMariadbScript } from "./client.ts";
import { createDataDirectory } from "./initialize.ts";
import { withPrivateServer } from "./private-server.ts";
import { replicationAccountSql } from "./replication-sql.ts";
import { markRole } from "./role-marker.ts";

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

/** Stream the dump of `upstream` into a private server on the new data directory (private-server.ts). */
async function loadDump(context: InstanceContext, upstream: UpstreamAddress, optionFile: string, host: HostAccess): Promise<void> {
  const dump = (await findExecutable("mariadb-dump")) ?? "/usr/bin/mariadb-dump";
  await withPrivateServer(context, { optionFile }, host, (client) => {
    // mariadb-dump cannot tell its connection id: its one login, as the administrator, is announced to the login watch.
    HOLDFAST_SESSIONS.expectConnection(upstream.port);
    return host.runStreamingOut(dumpCommand(dump, optionFile, upstream, context.tls?.caFile), (dumped) => host.runStreamingIn(client(), dumped, { cwd: context.runDirectory }), { cwd: context.runDirectory });
  });
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
