/** Shared by quickstart and the test runner: make sure this host has the engines, their clients and the runtime's tools. */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { builtinEngines, EngineCatalog } from "../src/engines/index.ts";

export const REPO = resolve(import.meta.dirname, "..");
export const HOLDFAST = join(REPO, "bin", "holdfast");

/** Client and tool binaries the tests and `cluster connect` use, by the package that provides them. */
const TOOLS: Record<string, string> = {
  psql: "postgresql-client",
  "redis-cli": "redis-tools",
  setfacl: "acl",
  // The exporters the node agent runs beside the instances (ADR 0035).
  "prometheus-postgres-exporter": "prometheus-postgres-exporter",
  "prometheus-redis-exporter": "prometheus-redis-exporter",
};

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

/** What only the tests need: etcd for the etcd store's tests (which skip, saying so, where it is missing), Prometheus for the monitoring test. */
const ETCD_PACKAGES: Record<string, string> = { "/usr/bin/etcd": "etcd-server", "/usr/bin/etcdctl": "etcd-client" };
// chromium: the web console's browser test and bench (test/e2e/console.test.ts, bench/console.ts).
const TEST_PACKAGES: Record<string, string> = { ...ETCD_PACKAGES, "/usr/bin/promtool": "prometheus", "/usr/bin/chromium": "chromium" };

/** What the lab of hosts needs besides the engines: iproute2 for network namespaces, and etcd. */
const LAB_PACKAGES: Record<string, string> = { "/usr/sbin/ip": "iproute2", ...ETCD_PACKAGES };

/** The Debian packages of `packages` (by a file each provides) whose file is missing. */
function missingPackages(packages: Record<string, string>): string[] {
  return [...new Set(Object.entries(packages).filter(([path]) => !existsSync(path)).map(([, pkg]) => pkg))];
}

/** apt-get install `packages` (root on Debian); false when it cannot be done here. */
function aptInstall(packages: string[], why: string): boolean {
  if (process.getuid?.() !== 0 || !onPath("apt-get")) return false;
  console.error(`Installing ${why}: ${packages.join(", ")}`);
  const result = spawnSync("apt-get", ["install", "-y", "-qq", ...packages], { stdio: "inherit", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
  if (result.status !== 0) process.exit(result.status ?? 1);
  return true;
}

/** Install the tests' own prerequisites as root on Debian; elsewhere say which tests will be skipped. */
export function ensureTestHost(): void {
  ensureKubectl();
  const missing = missingPackages(TEST_PACKAGES);
  if (missing.length === 0) return;
  if (!aptInstall(missing, "for the tests")) console.error(`The etcd store tests and the console's browser test will be skipped, and the monitoring test needs Prometheus: install ${missing.join(" ")} (Debian packages) to run them.`);
}

/**
 * Stock kubectl for test/e2e/kubectl.test.ts: the `kubectl` package (Kubernetes' own apt repository, or Google
 * Cloud's) where apt knows it. Not in every host's sources, so a failure only means those tests skip, saying why.
 */
function ensureKubectl(): void {
  if (onPath("kubectl")) return;
  if (process.getuid?.() !== 0 || !onPath("apt-get")) {
    console.error("The kubectl tests will be skipped: install kubectl 1.32 (Debian package kubectl) to run them.");
    return;
  }
  const result = spawnSync("apt-get", ["install", "-y", "-qq", "kubectl"], { stdio: "inherit", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
  if (result.status !== 0) console.error("The kubectl tests will be skipped: apt-get could not install kubectl (add Kubernetes' apt repository for it).");
}

/** The engines, iproute2 and etcd for the lab: installed as root on Debian, else the process stops saying what to install. */
export async function ensureLabHost(): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.error("The lab needs root: it makes network namespaces, and the nodes make an OS user per cluster. Run it as root.");
    process.exit(1);
  }
  const missing = missingPackages(LAB_PACKAGES);
  if (missing.length > 0 && !aptInstall(missing, "for the lab")) {
    console.error(`The lab needs these Debian packages: apt-get install -y ${missing.join(" ")}`);
    process.exit(1);
  }
  await ensureHost();
}
