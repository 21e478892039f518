/**
 * A private mariadbd on a data directory that is not yet an instance's (a clone loading a dump, a restore replaying
 * binlogs): the instance's configuration, but no TCP, no binlog of its own, no replication threads; reached only through
 * its socket in the 0700 run directory, its logins kept out of the instance's audit log. Through `sh`, which sets the umask mariadbd creates its files with, then execs it.
 */
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { UnavailableError, errorMessage } from "../../errors/index.ts";
import type { CommandSpec, HostAccess, InstanceContext } from "../types.ts";
import { mariadbClientPath } from "./client.ts";
import { PRIVATE_FILE_MODES, mariadbConfPath, mariadbSocketPath } from "./config.ts";
import { AUDIT_LOG_OFF } from "./audit-log.ts";

const READY_TIMEOUT_MS = 60_000;
const SHUTDOWN_TIMEOUT_MS = 120_000;
const POLL_MS = 100;

/** How the private server is run and reached. */
export interface PrivateServerOptions {
  /** The client's option file (`[client]` user, and password unless the server skips grants). */
  optionFile: string;
  /** More server options, e.g. `--skip-grant-tables`. */
  serverArgs?: readonly string[];
  /** More client options, e.g. `--binary-mode` for binlog events. */
  clientArgs?: readonly string[];
}

/** The private server: the instance's option file, then no networking, no binlog, no replica threads. */
export function privateServerCommand(context: InstanceContext, serverArgs: readonly string[] = []): CommandSpec {
  const server = join(context.version.binDir, "mariadbd");
  return {
    command: "/bin/sh",
    args: ["-c", 'umask 0077 && exec "$0" "$@"', server, `--defaults-file=${mariadbConfPath(context)}`, "--skip-networking", "--skip-log-bin", "--skip-slave-start", AUDIT_LOG_OFF, ...serverArgs],
    env: { ...PRIVATE_FILE_MODES },
  };
}

/** The client into the private server, over its socket: `sql` (no secrets), or without it the statements on its stdin. */
export function privateClientCommand(context: InstanceContext, options: PrivateServerOptions, sql?: string): CommandSpec {
  const base = [`--defaults-extra-file=${options.optionFile}`, `--socket=${mariadbSocketPath(context)}`, "--protocol=SOCKET", "--batch", "--skip-column-names", ...(options.clientArgs ?? [])];
  return { command: mariadbClientPath(), args: sql === undefined ? base : [...base, `--execute=${sql}`] };
}

async function waitReady(context: InstanceContext, options: PrivateServerOptions, host: HostAccess, exited: () => boolean): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    try {
      await host.run(privateClientCommand(context, options, "SELECT 1"), { cwd: context.runDirectory, timeoutMs: 5000 });
      return;
    } catch (error) {
      if (exited() || Date.now() > deadline) throw new UnavailableError(`the private server of ${context.instanceName} did not start: ${errorMessage(error)}`, { cause: error });
      await sleep(POLL_MS);
    }
  }
}

/** Run the private server, hand `work` its client command once it answers, and shut it down cleanly after. */
export async function withPrivateServer(context: InstanceContext, options: PrivateServerOptions, host: HostAccess, work: (client: (sql?: string) => CommandSpec) => Promise<void>): Promise<void> {
  let exited = false;
  await host.runStreamingOut(privateServerCommand(context, options.serverArgs), async (serverOutput) => {
    serverOutput.resume();
    serverOutput.once("close", () => (exited = true));
    await waitReady(context, options, host, () => exited);
    await work((sql) => privateClientCommand(context, options, sql));
    await host.run(privateClientCommand(context, options, "SHUTDOWN"), { cwd: context.runDirectory, timeoutMs: SHUTDOWN_TIMEOUT_MS });
  }, { cwd: context.runDirectory });
}
