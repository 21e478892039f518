/**
 * Superuser logins to Redis (issue 13's `database-superuser-login` rule, ADR 0036): Redis logs no login, so the node
 * agent polls the instance's `CLIENT LIST` and records a connection of the `default` user (the administrator) that
 * Holdfast did not open as an audit event; the rule turns it into an Incident. The node agent's own connections
 * (probes, the poll itself, the exporter's account) open none; `redis-cli` as `default` with the password from the
 * Secret, staying connected for a few seconds as a person at a prompt does, opens one within 10 s.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { redisCli, redisConnection, startDemoServer } from "../helpers/clients.ts";
import { eventually, type TestServer } from "../helpers/harness.ts";
import { example } from "../helpers/manifests.ts";

const NS = "demo";
const NAME = "redis-standalone";
const INSTANCE = `${NAME}-redis-0`;
const INCIDENTS = "/apis/holdfast.io/v1/namespaces/holdfast-system/incidents";
const RULE = "database-superuser-login";

interface Incident {
  spec: { rule: string; severity: string; subject: string };
  status?: { evidence: { auditIDs: string[] } };
}

interface AuditEvent {
  auditID: string;
  verb: string;
  user: { username: string };
  sourceIPs: string[];
  objectRef?: { subresource?: string; name?: string };
  responseStatus?: { message?: string };
}

let server: TestServer;

before(async () => {
  ({ server } = await startDemoServer());
  await server.ok(["apply", "-f", "-"], await example("redis/cluster-standalone.yaml"));
  await server.ok(["wait", `cluster/${NAME}`, "-n", NS, "--for=phase=Running", "--timeout=240s"]);
});

after(async () => {
  await server.destroy();
});

async function loginIncidents(): Promise<Incident[]> {
  return (await server.api<{ items: Incident[] }>(INCIDENTS)).items.filter((i) => i.spec.rule === RULE);
}

async function loginEvents(): Promise<AuditEvent[]> {
  const list = JSON.parse(await server.ok(["audit", "list", "--resource", "instances", "--limit", "1000", "-o", "json"])) as { items: AuditEvent[] };
  return list.items.filter((e) => e.verb === "login" && e.objectRef?.subresource === "login");
}

void test("the node agent's own Redis connections open no incident; redis-cli as default opens one within 10 s", async () => {
  const connection = await redisConnection(server, NAME, NS);
  const password = decodeURIComponent(new URL(connection.uri).password);
  assert.equal(decodeURIComponent(new URL(connection.uri).username), "default", "the URI logs in as the administrator");
  // Probes and the login watch's own polls connect as default every few hundred ms meanwhile.
  await sleep(6000);
  assert.deepEqual(await loginIncidents(), [], "Holdfast's own connections open no incident");
  assert.deepEqual(await loginEvents(), [], "nor any login event");

  const started = Date.now();
  // Three PINGs a second apart on one connection: a person at a prompt, not a one-shot command (see ADR 0036 on the limit).
  const result = await redisCli(connection, "-r", "3", "-i", "1", "PING");
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /PONG/);
  const incident = await eventually("the superuser-login incident", async () => (await loginIncidents()).find((i) => i.spec.subject === `instance:${NS}/${INSTANCE}`), 10_000);
  const elapsed = Date.now() - started;
  assert.ok(elapsed < 10_000, `opened in ${elapsed} ms`);
  assert.equal(incident.spec.severity, "high");
  const events = await loginEvents();
  assert.equal(events.length, 1, "one login event for the one redis-cli connection");
  const [event] = events;
  assert.ok(event);
  assert.equal(event.user.username, "database:default");
  assert.equal(event.objectRef?.name, INSTANCE);
  assert.deepEqual(event.sourceIPs, ["127.0.0.1"]);
  assert.deepEqual(incident.status?.evidence.auditIDs, [event.auditID]);
  assert.ok(!JSON.stringify(incident).includes(password) && !JSON.stringify(events).includes(password), "no password in the incident or the audit event");
  console.log(`redis superuser login → incident in ${elapsed} ms`);
});
