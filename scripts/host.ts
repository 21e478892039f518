/** Shared by quickstart and the test runner: make sure this host has the engines, their clients and the runtime's tools. */
import { spawnSync } from "node:child_process";
import { join, resolve } from "node:path";
import { builtinEngines, EngineCatalog } from "../src/engines/index.ts";

export const REPO = resolve(import.meta.dirname, "..");
export const HOLDFAST = join(REPO, "bin", "holdfast");

/** Client and tool binaries the tests and `cluster connect` use, by the package that provides them. */
const TOOLS: Record<string, string> = { psql: "postgresql-client", "redis-cli": "redis-tools", setfacl: "acl" };

function onPath(binary: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${binary}`], { stdio: "ignore" }).status === 0;
}

/** What is missing: engines without an installed version, and tools not on PATH. */
export async function missingPrerequisites(): Promise<string[]> {
  const catalog = new EngineCatalog(builtinEngines());
  const missing: string[] = [];
  for (const engine of catalog.list()) if ((await catalog.versions(engine.name)).length === 0) missing.push(`${engine.name} server`);
  for (const [tool, pkg] of Object.entries(TOOLS)) if (!onPath(tool)) missing.push(`${tool} (${pkg})`);
  return missing;
}

/** Install what is missing through `holdfast engines install` (Debian packages as root; a clear message otherwise). */
export async function ensureHost(): Promise<void> {
  const missing = await missingPrerequisites();
  if (missing.length === 0) return;
  console.error(`Missing on this host: ${missing.join(", ")}; installing.`);
  const result = spawnSync(HOLDFAST, ["engines", "install"], { stdio: "inherit" });
  if (result.status !== 0) process.exit(result.status ?? 1);
  const still = await missingPrerequisites();
  if (still.length > 0) {
    console.error(`Still missing after installing: ${still.join(", ")}`);
    process.exit(1);
  }
}
