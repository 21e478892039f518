/** Which MariaDB version is installed on this host. */
import { dirname, join } from "node:path";
import { commandOutput, findExecutable, isExecutable } from "../host-binaries.ts";
import type { EngineVersion } from "../types.ts";

/** Debian installs the server in /usr/sbin, which is not on every PATH. */
const SERVER_DIRECTORIES = ["/usr/sbin", "/usr/local/sbin"];

/** Version from `mariadbd --version`, e.g. `mariadbd  Ver 10.11.18-MariaDB-0+deb12u1 for debian-linux-gnu` → 10.11.18. */
export function parseMariadbVersion(output: string, binDir: string): EngineVersion | undefined {
  const version = /\bVer\s+([0-9]+\.[0-9]+\.[0-9]+)-MariaDB\b/.exec(output)?.[1];
  if (version === undefined) return undefined;
  const [major = version, minor = "0"] = version.split(".");
  // MariaDB's release series is major.minor (10.11): that is what `serviceVersion: "10"` or `"10.11"` pick.
  return { version, major: `${major}.${minor}`, binDir };
}

/** The server binary: PATH, then the system's sbin directories. */
async function findServer(): Promise<string | undefined> {
  const onPath = await findExecutable("mariadbd");
  if (onPath !== undefined) return onPath;
  for (const dir of SERVER_DIRECTORIES) {
    if (await isExecutable(join(dir, "mariadbd"))) return join(dir, "mariadbd");
  }
  return undefined;
}

/** The installed mariadbd, newest first; [] when there is none. Never throws. */
export async function detectMariadbVersions(): Promise<EngineVersion[]> {
  const server = await findServer();
  if (server === undefined) return [];
  const output = await commandOutput(server, ["--version"]);
  const version = output === undefined ? undefined : parseMariadbVersion(output, dirname(server));
  return version === undefined ? [] : [version];
}
