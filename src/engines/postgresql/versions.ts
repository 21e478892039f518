/** Which PostgreSQL versions are installed on this host. */
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { commandOutput, findExecutable, isExecutable } from "../host-binaries.ts";
import { newestFirst } from "../version.ts";
import type { EngineVersion } from "../types.ts";

/** Where Debian's postgresql-common installs each major version. */
const DEBIAN_ROOT = "/usr/lib/postgresql";

/** Version from `postgres --version`, e.g. `postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)` → 15.18. */
export function parsePostgresVersion(output: string, binDir: string): EngineVersion | undefined {
  const match = /\(PostgreSQL\)\s+([0-9]+(?:\.[0-9]+)*)/.exec(output);
  const version = match?.[1];
  if (version === undefined) return undefined;
  const parts = version.split(".");
  // Before 10 the major version had two parts (9.6); since 10 it has one.
  const major = Number(parts[0]) < 10 ? parts.slice(0, 2).join(".") : (parts[0] ?? version);
  return { version, major, binDir };
}

/** The version of the server in `binDir`, or undefined when there is none. */
async function versionIn(binDir: string): Promise<EngineVersion | undefined> {
  const postgres = join(binDir, "postgres");
  if (!(await isExecutable(postgres))) return undefined;
  const output = await commandOutput(postgres, ["--version"]);
  return output === undefined ? undefined : parsePostgresVersion(output, binDir);
}

/** Bin directories under /usr/lib/postgresql/<major>/bin. */
async function debianBinDirs(): Promise<string[]> {
  try {
    const entries = await readdir(DEBIAN_ROOT, { withFileTypes: true });
    return entries.filter((entry) => entry.isDirectory()).map((entry) => join(DEBIAN_ROOT, entry.name, "bin"));
  } catch {
    return [];
  }
}

/** The bin directory `pg_config` on PATH reports, for installations outside the Debian layout. */
async function pgConfigBinDir(): Promise<string | undefined> {
  const pgConfig = await findExecutable("pg_config");
  return pgConfig === undefined ? undefined : commandOutput(pgConfig, ["--bindir"]);
}

/** Installed PostgreSQL versions, newest first; [] when there are none. Never throws. */
export async function detectPostgresqlVersions(): Promise<EngineVersion[]> {
  const found = await Promise.all((await debianBinDirs()).map(versionIn));
  const versions = found.filter((version) => version !== undefined);
  if (versions.length > 0) return newestFirst(versions);
  const binDir = await pgConfigBinDir();
  const fallback = binDir === undefined ? undefined : await versionIn(binDir);
  return fallback === undefined ? [] : [fallback];
}
