/**
 * `holdfast logs` (issue 13, done-when 4): a PostgreSQL instance's own log is shown to an administrator (all of it,
 * the last lines, since a time, and followed as it grows) and refused (403, audited) to a view user without
 * instances/log. The exporter beside it has a log of its own (-c exporter). The server's own log is JSON lines.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Instance } from "../../src/api/index.ts";
import { psql, startDemoServer } from "../helpers/clients.ts";
import { eventually, REPO, run, type TestServer } from "../helpers/harness.ts";
import { postgresExample } from "../helpers/manifests.ts";

let server: TestServer;
const INSTANCE = "pg-cluster-postgresql-0";

before(async () => {
  let major: string;
  ({ server, major } = await startDemoServer());
  await server.ok(["apply", "-f", "-"], await postgresExample(major));
  await server.ok(["wait", "cluster/pg-cluster", "-n", "demo", "--for=phase=Running", "--timeout=180s"]);
});

after(async () => {
  await server.destroy();
});

interface AuditEvent {
  verb: string;
  user: { username: string };
  objectRef?: { resource?: string; subresource?: string; name?: string };
  responseStatus: { code: number };
}

async function auditOf(user: string): Promise<AuditEvent[]> {
  return (JSON.parse(await server.ok(["audit", "list", "--user", user, "--resource", "instances", "--limit", "500", "-o", "json"])) as { items: AuditEvent[] }).items;
}

void test("an administrator reads a PostgreSQL instance's log: all, the last lines, since a time; the read is audited", async () => {
  // The last line first: the log grows between two reads (every login is logged, Holdfast's probes included).
  const last = await server.ok(["logs", INSTANCE, "-n", "demo", "--tail", "1"]);
  const all = await server.ok(["logs", INSTANCE, "-n", "demo"]);
  assert.match(all, /database system is ready to accept connections/);
  assert.equal(last.trimEnd().split("\n").length, 1);
  assert.ok(all.split("\n").includes(last.trimEnd()), "the last line, then as one line of the whole log");
  assert.match(await server.ok(["logs", INSTANCE, "-n", "demo", "--since", "1h"]), /ready to accept connections/);
  const admin = server.mustAdmin().username;
  const reads = (await auditOf(admin)).filter((e) => e.objectRef?.subresource === "log" && e.objectRef.name === INSTANCE);
  assert.ok(reads.length >= 3 && reads.every((e) => e.verb === "get" && e.responseStatus.code === 200));
  const unknown = await server.cli(["logs", INSTANCE, "-n", "demo", "-c", "sidecar"]);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /database.*exporter/);
});

void test("logs -c exporter shows the metrics exporter's own log: all, the last lines, since a time; never its password", async () => {
  await eventually("the exporter beside the instance", async () => {
    const pod = await server.api<Instance>(`/apis/holdfast.io/v1alpha1/namespaces/demo/instances/${INSTANCE}`);
    return pod.status?.exporter?.pid === undefined ? undefined : true;
  }, 120_000);
  let seen = "";
  const all = await eventually("the exporter's start in its log", async () => {
    const read = await server.cli(["logs", INSTANCE, "-n", "demo", "-c", "exporter"]);
    seen = `${read.code} ${read.stdout} ${read.stderr}`;
    return /Listening on/.test(read.stdout) ? read.stdout : undefined;
  }, 30_000).catch((error: unknown) => assert.fail(`${String(error)}; last read: ${seen}`));
  assert.doesNotMatch(all, /database system is ready/, "not the database's log");
  const last = await server.ok(["logs", INSTANCE, "-n", "demo", "-c", "exporter", "--tail", "1"]);
  assert.equal(last.trimEnd().split("\n").length, 1);
  assert.ok(all.trimEnd().endsWith(last.trimEnd()));
  // The exporter writes logfmt times (ts=…): --since reads them as it reads the database's.
  assert.match(await server.ok(["logs", INSTANCE, "-n", "demo", "-c", "exporter", "--since", "1h"]), /Listening on/);
  const secret = await server.api<{ data: { password: string } }>("/api/v1/namespaces/demo/secrets/pg-cluster-postgresql-account-kbmonitoring");
  assert.ok(!all.includes(Buffer.from(secret.data.password, "base64").toString("utf8")), "the monitoring password is not in the exporter's log");
});

void test("logs -f prints what the database writes while it runs", async () => {
  const follower = spawn(join(REPO, "bin", "holdfast"), ["logs", INSTANCE, "-n", "demo", "-f", "--tail", "0"], {
    env: { ...process.env, HOLDFAST_HOME: server.home, HOLDFAST_SERVER: server.url },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  follower.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  try {
    const pod = await server.api<Instance>(`/apis/holdfast.io/v1alpha1/namespaces/demo/instances/${INSTANCE}`);
    // A failed login is something PostgreSQL writes to its log.
    await eventually("the failed login in the followed log", async () => {
      await psql(`postgresql://intruder:wrong-password@127.0.0.1:${pod.spec.port}/postgres`, "select 1");
      return /password authentication failed for user "intruder"/.test(output) ? true : undefined;
    }, 30_000);
  } finally {
    follower.kill("SIGINT");
  }
});

void test("a view user without instances/log is refused (403), and the refusal is audited", async () => {
  await server.ok(["user", "create", "vic", "-o", "json"]);
  await server.ok(["apply", "-f", "-"], "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: vic-view, namespace: demo}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}\nsubjects: [{kind: User, apiGroup: rbac.authorization.k8s.io, name: vic}]\n");
  const token = (JSON.parse(await server.ok(["token", "create", "--name", "e2e", "--expires", "1h", "--user", "vic", "-o", "json"])) as { token: string }).token;
  const env = { ...process.env, HOLDFAST_HOME: server.home, HOLDFAST_SERVER: server.url, HOLDFAST_TOKEN: token };
  assert.equal((await run(join(REPO, "bin", "holdfast"), ["get", "instances", "-n", "demo"], { env })).code, 0, "vic may see the instance");
  const refused = await run(join(REPO, "bin", "holdfast"), ["logs", INSTANCE, "-n", "demo"], { env });
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /Forbidden|cannot get instances\/log/);
  assert.doesNotMatch(refused.stdout, /ready to accept connections/);
  const response = await server.fetch(`/apis/holdfast.io/v1alpha1/namespaces/demo/instances/${INSTANCE}/log`, {}, token);
  assert.equal(response.status, 403);
  const denials = (await auditOf("vic")).filter((e) => e.objectRef?.subresource === "log" && e.responseStatus.code === 403);
  assert.ok(denials.length >= 2, JSON.stringify(denials));
});

void test("the server logs JSON lines at info: its start, the leadership, what it does", async () => {
  const lines = (await readFile(server.serverLog, "utf8")).split("\n").filter((line) => line.startsWith("{"));
  const messages = lines.map((line) => (JSON.parse(line) as { msg?: string }).msg ?? "");
  assert.ok(messages.includes("holdfast server started"));
  assert.ok(messages.some((m) => /leads/.test(m)), "leadership is logged");
});
