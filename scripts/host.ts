/** Shared by quickstart and the test runner: make sure this host has the engines, their clients and the runtime's tools. */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
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

/** What only the tests need: etcd for the etcd store's tests (which skip, saying so, where it is missing). */
const TEST_PACKAGES: Record<string, string> = { "/usr/bin/etcd": "etcd-server", "/usr/bin/etcdctl": "etcd-client" };

/** Install the tests' own prerequisites as root on Debian; elsewhere say which tests will be skipped. */
export function ensureTestHost(): void {
  const missing = Object.entries(TEST_PACKAGES)
    .filter(([path]) => !existsSync(path))
    .map(([, pkg]) => pkg);
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0 || !onPath("apt-get")) {
    console.error(`The etcd store tests will be skipped: install ${missing.join(" ")} (Debian packages) to run them.`);
    return;
  }
  console.error(`Installing for the tests: ${missing.join(", ")}`);
  const result = spawnSync("apt-get", ["install", "-y", "-qq", ...missing], { stdio: "inherit", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
  if (result.status !== 0) process.exit(result.status ?? 1);
}
