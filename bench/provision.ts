/**
 * Provisioning time: from `holdfast apply` of a standalone cluster to the first successful query with the
 * engine's own client, against the floor measured in the same run: the engine's own init + start by hand
 * (initdb + pg_ctl start; redis-server with a config), also up to the first successful query.
 */
import { mkdtemp, rm, writeFile, chown, chmod } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { builtinEngines, EngineCatalog } from "../src/engines/index.ts";
import { ensureServiceUser, type ServiceUser } from "../src/runtime/index.ts";
import { run, TestServer } from "../test/helpers/harness.ts";
import { formatMs, median } from "./stats.ts";

const TRIALS = Number(process.env["BENCH_TRIALS"] ?? 5);

interface Row {
  engine: string;
  /** `holdfast apply -f` from the command line, as a user runs it. */
  holdfast: number[];
  /** The same manifest POSTed to the API: the control plane's own share. */
  api: number[];
  floor: number[];
}

export async function provisionBenchmark(): Promise<void> {
  const user = await ensureServiceUser();
  const catalog = new EngineCatalog(builtinEngines());
  const [pg] = await catalog.versions("postgresql");
  const [redis] = await catalog.versions("redis");
  if (!pg || !redis) throw new Error("PostgreSQL and Redis must be installed: holdfast engines install");
  const server = await TestServer.start();
  const rows: Row[] = [
    { engine: `postgresql ${pg.version}`, holdfast: [], api: [], floor: [] },
    { engine: `redis ${redis.version}`, holdfast: [], api: [], floor: [] },
  ];
  try {
    for (let trial = 0; trial < TRIALS; trial++) {
      rows[0]?.floor.push(await postgresFloor(pg.binDir, user, trial));
      rows[0]?.holdfast.push(await holdfastProvision(server, "postgresql", `cli-${trial}`));
      rows[0]?.api.push(await holdfastProvision(server, "postgresql", `api-${trial}`));
      rows[1]?.floor.push(await redisFloor(user, trial));
      rows[1]?.holdfast.push(await holdfastProvision(server, "redis", `cli-${trial}`));
      rows[1]?.api.push(await holdfastProvision(server, "redis", `api-${trial}`));
    }
  } finally {
    await server.destroy();
  }
  report(rows);
}

function report(rows: readonly Row[]): void {
  console.log(`\nprovision: apply → first successful client query (median of ${TRIALS} trials)`);
  console.log("engine".padEnd(20), "holdfast apply".padStart(15), "ratio".padStart(7), "API POST".padStart(10), "ratio".padStart(7), "floor".padStart(9));
  for (const row of rows) {
    const [h, a, f] = [median(row.holdfast), median(row.api), median(row.floor)];
    console.log(row.engine.padEnd(20), formatMs(h).padStart(15), `${(h / f).toFixed(2)}x`.padStart(7), formatMs(a).padStart(10), `${(a / f).toFixed(2)}x`.padStart(7), formatMs(f).padStart(9));
  }
  console.log("holdfast apply: the CLI (a Node process) applies a Cluster manifest; API POST: the same manifest sent over HTTP");
  console.log("floor: the engine's own init + start by hand (initdb + pg_ctl start -w; redis-server), then the first query with psql / redis-cli\n");
}

function manifest(name: string, engine: string): string {
  return JSON.stringify({
    apiVersion: "apps.kubeblocks.io/v1",
    kind: "Cluster",
    metadata: { name, namespace: "default" },
    spec: { clusterDef: engine, terminationPolicy: "Delete", componentSpecs: [{ name: engine, replicas: 1 }] },
  });
}

/** Create the cluster through the CLI (`apply -f -`) or a plain POST to the API. */
async function create(server: TestServer, name: string, engine: string, via: string): Promise<void> {
  if (via === "cli") {
    await server.ok(["apply", "-f", "-"], manifest(name, engine));
    return;
  }
  const response = await server.fetch("/apis/apps.kubeblocks.io/v1/namespaces/default/clusters", { method: "POST", headers: { "content-type": "application/json" }, body: manifest(name, engine) });
  if (!response.ok) throw new Error(`POST failed: ${response.status} ${await response.text()}`);
}

/** Time from creating the cluster to the first query that succeeds through the generated URI. */
async function holdfastProvision(server: TestServer, engine: string, trial: string): Promise<number> {
  const name = `bench-${engine === "postgresql" ? "pg" : "rd"}-${trial}`;
  const started = performance.now();
  await create(server, name, engine, trial.split("-")[0] ?? "cli");
  const component = engine;
  const account = engine === "postgresql" ? "postgres" : "default";
  for (;;) {
    const uri = await uriFromApi(server, name, component, account);
    // Holdfast's instances speak TLS only (ADR 0028, 0030): the client checks them against the home's CA.
    if (uri !== undefined && (await query(engine, uri, join(server.home, "tls", "ca.crt")))) break;
    await sleep(10);
  }
  const elapsed = performance.now() - started;
  await server.ok(["delete", "cluster", name, "--wait", "--timeout=120s"]);
  return elapsed;
}

/** The connection URI from the API (secret + instance port), as a client library would build it. */
async function uriFromApi(server: TestServer, cluster: string, component: string, account: string): Promise<string | undefined> {
  const secret = await server.fetch(`/api/v1/namespaces/default/secrets/${cluster}-${component}-account-${account}`);
  const instance = await server.fetch(`/apis/holdfast.io/v1alpha1/namespaces/default/instances/${cluster}-${component}-0`);
  if (!secret.ok || !instance.ok) return undefined;
  const data = ((await secret.json()) as { data: Record<string, string> }).data;
  const port = ((await instance.json()) as { spec: { port: number } }).spec.port;
  const password = Buffer.from(data["password"] ?? "", "base64").toString();
  const scheme = component === "postgresql" ? "postgresql" : "rediss";
  return `${scheme}://${account}:${password}@127.0.0.1:${port}${scheme === "postgresql" ? "/postgres" : ""}`;
}

/** One query through `uri`; a `rediss://` one over TLS checked against `caFile`. */
async function query(engine: string, uri: string, caFile?: string): Promise<boolean> {
  const tls = uri.startsWith("rediss://") && caFile !== undefined ? ["--tls", "--cacert", caFile] : [];
  const result = engine === "postgresql" ? await run("psql", [uri, "-X", "-A", "-t", "-c", "select 1"]) : await run("redis-cli", ["--no-auth-warning", ...tls, "-u", uri, "PING"]);
  return result.code === 0 && /^(1|PONG)$/m.test(result.stdout);
}

async function asUser(user: ServiceUser, command: string, args: string[]): Promise<void> {
  const result = await run("setpriv", [`--reuid=${user.uid}`, `--regid=${user.gid}`, "--clear-groups", command, ...args]);
  if (result.code !== 0) throw new Error(`${command} failed: ${result.stderr}`);
}

async function scratch(user: ServiceUser): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "holdfast-floor-"));
  await chown(dir, user.uid, user.gid);
  await chmod(dir, 0o700);
  return dir;
}

async function postgresFloor(binDir: string, user: ServiceUser, trial: number): Promise<number> {
  const dir = await scratch(user);
  const port = 19500 + trial;
  const data = join(dir, "data");
  const started = performance.now();
  await asUser(user, join(binDir, "initdb"), ["-D", data, "-U", "postgres", "--auth=trust"]);
  await asUser(user, join(binDir, "pg_ctl"), ["start", "-w", "-D", data, "-l", join(dir, "log"), "-o", `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`]);
  while (!(await query("postgresql", `postgresql://postgres@127.0.0.1:${port}/postgres`))) await sleep(10);
  const elapsed = performance.now() - started;
  await asUser(user, join(binDir, "pg_ctl"), ["stop", "-m", "immediate", "-D", data]);
  await rm(dir, { recursive: true, force: true });
  return elapsed;
}

async function redisFloor(user: ServiceUser, trial: number): Promise<number> {
  const dir = await scratch(user);
  const port = 19600 + trial;
  const config = join(dir, "redis.conf");
  const started = performance.now();
  await writeFile(config, `port ${port}\nbind 127.0.0.1\ndir ${dir}\ndaemonize yes\npidfile ${dir}/redis.pid\nlogfile ${dir}/log\nappendonly yes\n`);
  await chown(config, user.uid, user.gid);
  await asUser(user, "redis-server", [config]);
  while (!(await query("redis", `redis://127.0.0.1:${port}`))) await sleep(10);
  const elapsed = performance.now() - started;
  await run("redis-cli", ["-p", String(port), "shutdown", "nosave"]);
  await rm(dir, { recursive: true, force: true });
  return elapsed;
}
