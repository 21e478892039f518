/**
 * Online rotation of a cluster's database credentials (issue 13 done-when 3, issue 14's rotate-password; ADR 0038),
 * with real psql on a two-instance PostgreSQL cluster that logs every statement and connection:
 * `holdfast cluster rotate-password` gives every system account a new password; the old one is refused by psql, the
 * new one (from `cluster connect --show-uri`, from the Secret) works; replication, the exporter and a switchover work
 * afterwards; no password value (old or new) is in the server's log, the database and exporter logs, events, status
 * or incidents. A server killed in the middle of a rotation finishes it after its restart. An incident's containment
 * rotates them too, in its timeline.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import type { Instance } from "../../src/api/index.ts";
import { connectionUri, psql, startDemoServer, uriAt } from "../helpers/clients.ts";
import { eventually, type TestServer } from "../helpers/harness.ts";
import { postgresExample } from "../helpers/manifests.ts";
import { bruteForceIncident, passwordLeaks } from "../helpers/rotation.ts";

const NS = "demo";
const NAME = "pg-cluster";
const MEMBERS = [0, 1].map((i) => `${NAME}-postgresql-${i}`);

interface AccountSecret {
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  data: Record<string, string>;
}

let server: TestServer;

before(async () => {
  let major: string;
  ({ server, major } = await startDemoServer());
  await server.ok(["apply", "-f", "-"], await postgresExample(major, (doc) => (doc["spec"].componentSpecs[0].replicas = 2)));
  await server.ok(["wait", `cluster/${NAME}`, "-n", NS, "--for=phase=Running", "--timeout=240s"]);
  await settled();
  // Every statement and connection in the database's log: a password sent as text would be there.
  const uri = await connectionUri(server, NAME, NS);
  for (const statement of ["ALTER SYSTEM SET log_statement = 'all'", "ALTER SYSTEM SET log_connections = on", "SELECT pg_reload_conf()"]) {
    const result = await psql(uri, statement);
    assert.equal(result.code, 0, result.stderr);
  }
});

after(async () => {
  await server.destroy();
});

async function secrets(): Promise<AccountSecret[]> {
  const list = await server.api<{ items: AccountSecret[] }>(`/api/v1/namespaces/${NS}/secrets?labelSelector=${encodeURIComponent(`app.kubernetes.io/instance=${NAME}`)}`);
  return list.items.filter((s) => s.metadata.labels?.["apps.kubeblocks.io/system-account"] !== undefined);
}

/** Each account Secret's password in effect, by Secret name. */
async function passwords(): Promise<Map<string, string>> {
  return new Map((await secrets()).map((s) => [s.metadata.name, Buffer.from(s.data["password"] ?? "", "base64").toString("utf8")]));
}

async function instances(): Promise<Instance[]> {
  return Promise.all(MEMBERS.map((name) => server.api<Instance>(`/apis/holdfast.io/v1alpha1/namespaces/${NS}/instances/${name}`)));
}

/** One ready primary and a ready replica that streams from it; the primary's name. */
async function settled(): Promise<string> {
  return eventually("a primary and a streaming replica", async () => {
    const all = await instances();
    const primary = all.find((i) => i.status?.role === "primary");
    const replica = all.find((i) => i.status?.role === "secondary");
    const ok = all.every((i) => i.status?.ready === true) && primary !== undefined && replica?.status?.replication?.state === "streaming";
    return ok ? primary.metadata.name : undefined;
  }, 180_000);
}

async function sql(uri: string, text: string): Promise<string> {
  const result = await psql(uri, text);
  assert.equal(result.code, 0, result.stderr);
  return result.stdout.trim();
}

/** Where any of `values` appears (passwordLeaks). */
async function leaks(values: readonly string[]): Promise<string[]> {
  return passwordLeaks(server, NS, values);
}

/** The admin URI with another password. */
function withPassword(uri: string, password: string): string {
  const url = new URL(uri);
  url.password = encodeURIComponent(password);
  return url.toString();
}

async function refused(uri: string): Promise<void> {
  const result = await psql(uri, "select 1");
  assert.notEqual(result.code, 0, "the old password is refused");
  assert.match(result.stderr, /password authentication failed/);
}

void test("rotate-password: the old passwords are refused, the new ones work, replication and a switchover work, no password is logged", async (t) => {
  const old = await passwords();
  const oldUri = await connectionUri(server, NAME, NS);
  const started = Date.now();
  const rotated = await server.cli(["cluster", "rotate-password", NAME, "-n", NS]);
  t.diagnostic(`rotate-password of ${old.size} accounts took ${Date.now() - started} ms`);
  assert.equal(rotated.code, 0, `${rotated.stdout}${rotated.stderr}`);
  assert.equal(rotated.stdout.match(/: rotated/g)?.length, old.size, rotated.stdout);
  const current = await passwords();
  for (const [name, password] of old) assert.notEqual(current.get(name), password, `${name} has a new password`);
  assert.ok((await secrets()).every((s) => s.data["nextPassword"] === undefined), "no rotation is left under way");

  await refused(oldUri);
  const newUri = await connectionUri(server, NAME, NS);
  assert.equal(await sql(newUri, "select 1"), "1");
  const monitorSecret = `${NAME}-postgresql-account-kbmonitoring`;
  const asMonitor = (password: string): string => withPassword(newUri.replace(/\/\/[^:]+:/, "//kbmonitoring:"), password);
  await refused(asMonitor(old.get(monitorSecret) ?? ""));
  assert.equal(await sql(asMonitor(current.get(monitorSecret) ?? ""), "select 1"), "1");

  // The exporter was restarted with the new monitoring password: it reaches the database.
  const primaryName = await settled();
  await eventually("pg_up 1 from the primary's exporter", async () => {
    const primary = (await instances()).find((i) => i.metadata.name === primaryName);
    const port = primary?.status?.exporter?.port;
    if (port === undefined) return undefined;
    const text = await fetch(`http://${primary?.status?.host ?? "127.0.0.1"}:${port}/metrics`).then((r) => r.text(), () => "");
    return /^pg_up 1$/m.test(text) ? true : undefined;
  }, 60_000);

  // A switchover: the former primary rejoins as a replica with the new replication password, and writes replicate.
  await server.ok(["apply", "-f", "-"], JSON.stringify({ apiVersion: "operations.kubeblocks.io/v1alpha1", kind: "OpsRequest", metadata: { name: "pg-rotated-switchover", namespace: NS }, spec: { clusterName: NAME, type: "Switchover", switchover: [{ componentName: "postgresql", instanceName: primaryName }] } }));
  const done = await eventually("the switchover", async () => {
    const ops = await server.api<{ status?: { phase?: string; message?: string } }>(`/apis/operations.kubeblocks.io/v1alpha1/namespaces/${NS}/opsrequests/pg-rotated-switchover`);
    return ops.status?.phase === "Succeed" || ops.status?.phase === "Failed" ? ops : undefined;
  }, 180_000);
  assert.equal(done.status?.phase, "Succeed", done.status?.message);
  const newPrimary = await settled();
  assert.notEqual(newPrimary, primaryName);
  const uri = await connectionUri(server, NAME, NS);
  await eventually("a write on the new primary", async () => ((await psql(uri, "CREATE TABLE IF NOT EXISTS rotated (v text); INSERT INTO rotated VALUES ('after')")).code === 0 ? true : undefined), 60_000);
  const replica = (await instances()).find((i) => i.metadata.name === primaryName);
  const replicaUri = uriAt(uri, replica?.status?.host ?? "127.0.0.1", replica?.spec.port ?? 0);
  await eventually("the write on the former primary, now a replica", async () => ((await psql(replicaUri, "SELECT v FROM rotated")).stdout.includes("after") ? true : undefined), 60_000);

  assert.deepEqual(await leaks([...old.values(), ...current.values()]), []);
});

void test("a server killed in the middle of a rotation finishes it after its restart", async () => {
  const old = await passwords();
  const adminSecret = `${NAME}-postgresql-account-postgres`;
  const oldUri = await connectionUri(server, NAME, NS);
  assert.equal((await server.cli(["cluster", "rotate-password", NAME, "-n", NS, "--account", "postgres", "--no-wait"])).code, 0);
  await eventually("the next password generated", async () => ((await secrets()).some((s) => s.data["nextPassword"] !== undefined) ? true : undefined), 60_000);
  await server.kill();
  await server.startProcess();
  const finished = await eventually("the rotation finished after the restart", async () => {
    const secret = (await secrets()).find((s) => s.metadata.name === adminSecret);
    return secret !== undefined && secret.data["nextPassword"] === undefined && Buffer.from(secret.data["password"] ?? "", "base64").toString("utf8") !== old.get(adminSecret) ? secret : undefined;
  }, 180_000);
  assert.ok(finished);
  await refused(oldUri);
  assert.equal(await sql(await connectionUri(server, NAME, NS), "select 1"), "1");
  const current = await passwords();
  for (const [name, password] of old) if (name !== adminSecret) assert.equal(current.get(name), password, `${name} was not asked to rotate`);
  await settled();
  assert.deepEqual(await leaks([...old.values(), ...current.values()]), []);
});

void test("an incident's containment rotates a cluster's credentials, in its timeline", async () => {
  const incident = await bruteForceIncident(server);
  const old = await passwords();
  const oldUri = await connectionUri(server, NAME, NS);
  const contained = await server.cli(["incident", "contain", incident, "--rotate-credentials", `${NS}/${NAME}`]);
  assert.equal(contained.code, 0, `${contained.stdout}${contained.stderr}`);
  await eventually("every account rotated", async () => {
    const now = await passwords();
    const done = (await secrets()).every((s) => s.data["nextPassword"] === undefined) && [...old].every(([name, password]) => now.get(name) !== password);
    return done ? true : undefined;
  }, 120_000);
  await refused(oldUri);
  assert.equal(await sql(await connectionUri(server, NAME, NS), "select 1"), "1");
  const described = await server.ok(["incident", "describe", incident, "-o", "json"]);
  assert.match(described, /RotateCredentials/);
  assert.deepEqual(await leaks([...old.values(), ...(await passwords()).values()]), []);
});
