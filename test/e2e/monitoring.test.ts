/**
 * Issue 13, done-when 1: a real Prometheus (Debian's), started here on loopback with the configuration
 * `holdfast monitoring prometheus-config` prints, scrapes the control plane and the exporters of a PostgreSQL and a
 * Redis cluster (every target up == 1, asked through Prometheus' HTTP API); the PostgreSQL and Redis alert rules of
 * the KubeBlocks examples, applied as PrometheusRule objects, load (promtool check rules, then Prometheus); killing a
 * database makes the examples' down alert fire (PostgreSQLDown: no pg_up of 1 for a minute). And /metrics is
 * deny-by-default: a user without the monitoring role is refused, and the refusal is audited.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Instance } from "../../src/api/index.ts";
import { startDemoServer } from "../helpers/clients.ts";
import { eventually, run, type TestServer } from "../helpers/harness.ts";
import { example, exampleWith, postgresExample } from "../helpers/manifests.ts";

const PROMETHEUS = "127.0.45.1:19090";
const PG = "pg-cluster";
const REDIS = "redis-standalone";

let server: TestServer;
let major: string;
let work: string;
let prometheus: ChildProcess | undefined;

before(async () => {
  ({ server, major } = await startDemoServer());
  work = await mkdtemp(join(tmpdir(), "holdfast-prometheus-"));
});

after(async () => {
  prometheus?.kill("SIGTERM");
  await server.destroy();
  await rm(work, { recursive: true, force: true });
});

async function userToken(name: string, clusterRole: string | undefined): Promise<string> {
  await server.ok(["user", "create", name, "-o", "json"]);
  if (clusterRole !== undefined) {
    await server.ok(["apply", "-f", "-"], `apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: ${name}-${clusterRole}}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: ${clusterRole}}\nsubjects: [{kind: User, apiGroup: rbac.authorization.k8s.io, name: ${name}}]\n`);
  }
  return (JSON.parse(await server.ok(["token", "create", "--name", "e2e", "--expires", "1h", "--user", name, "-o", "json"])) as { token: string }).token;
}

async function promApi<T>(path: string): Promise<T> {
  const response = await fetch(`http://${PROMETHEUS}${path}`);
  const body = (await response.json()) as { status: string; data: T };
  assert.equal(body.status, "success", path);
  return body.data;
}

interface ActiveTarget {
  labels: Record<string, string>;
  health: string;
  lastError: string;
  scrapeUrl: string;
}

void test("/metrics, the targets and the rules are refused without the monitoring role, and the refusal is audited", async () => {
  const viewer = await userToken("viewer", "view");
  for (const path of ["/metrics", "/monitoring/targets", "/monitoring/rules"]) {
    assert.equal((await server.fetch(path, {}, viewer)).status, 403, path);
    assert.equal((await server.fetch(path, {}, null)).status, 401, path);
  }
  const audit = JSON.parse(await server.ok(["audit", "list", "--user", "viewer", "-o", "json"])) as { items: { requestURI?: string; responseStatus: { code: number }; annotations?: Record<string, string> }[] };
  const denied = audit.items.find((item) => item.requestURI === "/metrics");
  assert.equal(denied?.responseStatus.code, 403);
  assert.equal(denied.annotations?.["authorization.k8s.io/decision"], "forbid");
});

void test("a real Prometheus scrapes the control plane and every exporter, loads the example alert rules, and a killed database fires its alert", async () => {
  // Standalone: a killed server is restarted with the crash backoff (a replicated one would be failed over or restarted in place).
  await server.ok(["apply", "-f", "-"], await postgresExample(major, (doc) => (doc["spec"].topology = "standalone")));
  await server.ok(["apply", "-f", "-"], await example("redis/cluster-standalone.yaml"));
  // The examples' PodMonitors: the PostgreSQL one as shipped, the Redis one selecting the standalone cluster.
  await server.ok(["apply", "-f", "-"], await example("postgresql/pod-monitor.yaml"));
  await server.ok(["apply", "-f", "-"], await exampleWith("redis/pod-monitor.yaml", (doc) => (doc["spec"].selector.matchLabels["app.kubernetes.io/instance"] = REDIS)));
  for (const engine of ["postgresql", "redis"]) await server.ok(["apply", "-n", "demo", "-f", "-"], await example(`${engine}/alert-rules.yaml`));
  await server.ok(["wait", `cluster/${PG}`, "-n", "demo", "--for=phase=Running", "--timeout=180s"]);
  await server.ok(["wait", `cluster/${REDIS}`, "-n", "demo", "--for=phase=Running", "--timeout=180s"]);

  const tokenFile = join(work, "token");
  await writeFile(tokenFile, `${await userToken("prometheus", "monitoring")}\n`, { mode: 0o600 });
  const rulesFile = join(work, "rules.yml");
  await writeFile(rulesFile, await server.ok(["monitoring", "rules"]));
  const checkRules = await run("promtool", ["check", "rules", rulesFile]);
  assert.equal(checkRules.code, 0, `${checkRules.stdout}\n${checkRules.stderr}`);
  const configFile = join(work, "prometheus.yml");
  // Short intervals, but a scrape timeout (the interval) above the 1.5 s postgres_exporter 0.11 takes to report a server that is down.
  await writeFile(configFile, await server.ok(["monitoring", "prometheus-config", "--token-file", tokenFile, "--rule-file", rulesFile, "--scrape-interval", "5s", "--evaluation-interval", "1s"]));
  const checkConfig = await run("promtool", ["check", "config", configFile]);
  assert.equal(checkConfig.code, 0, `${checkConfig.stdout}\n${checkConfig.stderr}`);

  prometheus = spawn("prometheus", [`--config.file=${configFile}`, `--storage.tsdb.path=${join(work, "data")}`, `--web.listen-address=${PROMETHEUS}`], { stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  prometheus.stderr?.on("data", (chunk: Buffer) => (log = (log + chunk.toString()).slice(-20_000)));

  const targets = await eventually(
    "the API server and both exporters up in Prometheus",
    async () => {
      const data = await promApi<{ activeTargets: ActiveTarget[] }>("/api/v1/targets?state=active").catch(() => undefined);
      const active = data?.activeTargets ?? [];
      const kinds = active.map((t) => `${t.labels["job"]}:${t.labels["cluster"] ?? ""}`).sort();
      return active.length === 3 && active.every((t) => t.health === "up") ? { active, kinds } : undefined;
    },
    180_000,
  ).catch((error: unknown) => {
    throw new Error(`${String(error)}\nprometheus log:\n${log}`);
  });
  // The PodMonitors' jobLabel (app.kubernetes.io/managed-by) names the exporters' job: holdfast, like the API server's.
  assert.deepEqual(targets.kinds, ["holdfast:", `holdfast:${PG}`, `holdfast:${REDIS}`], "one API server, and the exporter of each cluster the PodMonitors select");
  for (const target of targets.active.filter((t) => t.labels["cluster"] !== undefined && t.labels["cluster"] !== "")) {
    for (const label of ["namespace", "cluster", "component", "instance", "role"]) assert.ok(target.labels[label], `${target.scrapeUrl} has label ${label}`);
  }
  const up = await promApi<{ result: { metric: Record<string, string>; value: [number, string] }[] }>("/api/v1/query?query=up");
  assert.equal(up.result.length, 3);
  assert.ok(up.result.every((sample) => sample.value[1] === "1"), JSON.stringify(up.result));
  // The exporters reach their databases with the monitoring accounts, and the control plane's own metrics arrive.
  for (const query of [`pg_up{cluster="${PG}"} == 1`, `redis_up{cluster="${REDIS}"} == 1`, 'holdfast_apiserver_requests_total{resource="namespaces"}', "holdfast_instances", "holdfast_workqueue_depth"]) {
    await eventually(query, async () => {
      const found = await promApi<{ result: unknown[] }>(`/api/v1/query?query=${encodeURIComponent(query)}`);
      return found.result.length > 0 ? found : undefined;
    });
  }

  const rules = await promApi<{ groups: { name: string; rules: { name: string; health: string; lastError?: string }[] }[] }>("/api/v1/rules");
  const loaded = rules.groups.flatMap((group) => group.rules);
  assert.ok(loaded.some((rule) => rule.name === "PostgreSQLDown"), "the PostgreSQL example rules are loaded");
  assert.ok(loaded.some((rule) => rule.name === "RedisDown"), "the Redis example rules are loaded");

  // Kill PostgreSQL whenever it is back: its restarts back off (1 s, 2 s, … 60 s), and once it has been down for a
  // minute the exporter has reported pg_up 0 throughout and the example's PostgreSQLDown fires.
  const instancePath = `/apis/holdfast.io/v1alpha1/namespaces/demo/instances/${PG}-postgresql-0`;
  const firing = await eventually(
    "PostgreSQLDown firing in Prometheus",
    async () => {
      const pid = (await server.api<Instance>(instancePath)).status?.pid;
      if (pid !== undefined) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // already gone
        }
      }
      const alerts = await promApi<{ alerts: { labels: Record<string, string>; state: string }[] }>("/api/v1/alerts");
      return alerts.alerts.find((alert) => alert.labels["alertname"] === "PostgreSQLDown" && alert.state === "firing");
    },
    360_000,
  ).catch(async (error: unknown) => {
    const query = async (q: string): Promise<string> => JSON.stringify(await promApi(`/api/v1/query?query=${encodeURIComponent(q)}`).catch((e: unknown) => String(e)));
    const rule = (await promApi<{ groups: { rules: { name: string }[] }[] }>("/api/v1/rules")).groups.flatMap((g) => g.rules).find((r) => r.name === "PostgreSQLDown");
    const status = (await server.api<Instance>(instancePath)).status;
    const active = (await promApi<{ activeTargets: ActiveTarget[] }>("/api/v1/targets?state=active")).activeTargets.map((t) => [t.scrapeUrl, t.health, t.lastError]);
    const direct = await fetch(`http://127.0.0.1:${status?.exporter?.port ?? 0}/metrics`, { signal: AbortSignal.timeout(3000) }).then(async (r) => `${r.status} ${(await r.text()).split("\n").filter((l) => l.startsWith("pg_up") || l.startsWith("pg_exporter_last")).join(" ")}`, (e: unknown) => String(e));
    throw new Error(`${String(error)}\npg_up: ${await query("pg_up")}\nup: ${await query("up")}\ntargets: ${JSON.stringify(active)}\nexporter: ${direct}\nrule: ${JSON.stringify(rule)}\ninstance: ${JSON.stringify(status)}`);
  });
  assert.equal(firing.labels["cluster"], PG);
  assert.equal(firing.labels["pod"], `${PG}-postgresql-0`);
  assert.equal(firing.labels["severity"], "critical");
});
