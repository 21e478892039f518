/** Which Redis version is installed on this host. */
import { dirname } from "node:path";
import { commandOutput, findExecutable } from "../host-binaries.ts";
import type { EngineVersion } from "../types.ts";

/** Version from `redis-server --version`, e.g. `Redis server v=7.0.15 sha=...` → 7.0.15. */
export function parseRedisVersion(output: string, binDir: string): EngineVersion | undefined {
  const version = /\bv=([0-9]+(?:\.[0-9]+)*)/.exec(output)?.[1];
  if (version === undefined) return undefined;
  return { version, major: version.split(".")[0] ?? version, binDir };
}

/** The installed redis-server (PATH, then /usr/bin), newest first; [] when there is none. Never throws. */
export async function detectRedisVersions(): Promise<EngineVersion[]> {
  const server = await findExecutable("redis-server");
  if (server === undefined) return [];
  const output = await commandOutput(server, ["--version"]);
  const version = output === undefined ? undefined : parseRedisVersion(output, dirname(server));
  return version === undefined ? [] : [version];
}
