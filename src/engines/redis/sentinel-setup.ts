/** Writing a Sentinel's config before each start, and the command that runs it. */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { CommandSpec, EngineVersion, HostAccess, InstanceLayout } from "../types.ts";
import type { RedisReplicationAccounts } from "./replication-accounts.ts";
import { PRIVATE_UMASK } from "./config.ts";
import { parseSentinelState, renderSentinelConf, sentinelConfPath, type SentinelLayout, type SentinelSettings } from "./sentinel-config.ts";

/** The text of the file at `path`, or undefined when there is none yet. */
async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

/**
 * Write sentinel.conf (0600) for the Sentinel on `layout`, keeping the state a previous run saved in it.
 * Creates its data directory (Sentinel's working directory) and run directory.
 */
export async function configureSentinel(layout: SentinelLayout, settings: SentinelSettings, accounts: RedisReplicationAccounts, host: HostAccess): Promise<void> {
  await host.mkdir(layout.dataDirectory);
  await host.mkdir(layout.runDirectory);
  const path = sentinelConfPath(layout);
  const previous = await readIfExists(path);
  const state = previous === undefined ? undefined : parseSentinelState(previous, settings.masterName);
  await host.writeFile(path, renderSentinelConf(layout, settings, accounts, state), 0o600);
}

/**
 * The foreground Sentinel: redis-server in sentinel mode, which needs its config file writable to save state.
 * It rewrites that file (holding the Sentinel password) with mode 0644 & ~umask, hence umask 077.
 */
export function sentinelStartCommand(layout: InstanceLayout, version: EngineVersion): CommandSpec {
  return { command: join(version.binDir, "redis-server"), args: [sentinelConfPath(layout), "--sentinel"], umask: PRIVATE_UMASK };
}
