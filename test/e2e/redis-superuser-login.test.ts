/**
 * Superuser logins to Redis (issue 13's `database-superuser-login` rule, ADR 0036): Redis logs no login, so the node
 * agent polls the instance's `CLIENT LIST` and records a connection of the `default` user (the administrator) that
 * Holdfast did not open as an audit event; the rule turns it into an Incident. The node agent's own connections
 * (probes, the poll itself, the exporter's account) open none; `redis-cli` as `default` with the password from the
 * Secret, staying connected for a few seconds as a person at a prompt does, opens one within 10 s. Twelve logins with
 * a wrong password (counted in the server's ACL LOG, which the same poll reads) open `database-login-failures`.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import type { Instance } from "../../src/api/index.ts";
import { redisAt, redisCli, redisConnection, startDemoServer } from "../helpers/clients.ts";
import type { TestServer } from "../helpers/harness.ts";
import { expectOneLoginIncident, expectRefusedLoginIncident, loginEvents, loginIncidents, refusedLoginIncidents } from "../helpers/superuser-logins.ts";
import { example } from "../helpers/manifests.ts";

const NS = "demo";
const NAME = "redis-standalone";
const INSTANCE = `${NAME}-redis-0`;

let server: TestServer;

before(async () => {
  ({ server } = await startDemoServer());
  await server.ok(["apply", "-f", "-"], await example("redis/cluster-standalone.yaml"));
  await server.ok(["wait", `cluster/${NAME}`, "-n", NS, "--for=phase=Running", "--timeout=240s"]);
});

after(async () => {
  await server.destroy();
});

void test("the node agent's own Redis connections open no incident; redis-cli as default opens one within 10 s", async () => {
  const connection = await redisConnection(server, NAME, NS);
  const password = decodeURIComponent(new URL(connection.uri).password);
  assert.equal(decodeURIComponent(new URL(connection.uri).username), "default", "the URI logs in as the administrator");
  // Probes and the login watch's own polls connect as default every few hundred ms meanwhile.
  await sleep(6000);
  assert.deepEqual(await loginIncidents(server), [], "Holdfast's own connections open no incident");
  assert.deepEqual(await loginEvents(server), [], "nor any login event");
  assert.deepEqual(await refusedLoginIncidents(server), [], "nor any refused-login incident");

  const started = Date.now();
  // Three PINGs a second apart on one connection: a person at a prompt, not a one-shot command (see ADR 0036 on the limit).
  const result = await redisCli(connection, "-r", "3", "-i", "1", "PING");
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /PONG/);
  const event = await expectOneLoginIncident(server, { namespace: NS, instance: INSTANCE, account: "default", password, started });
  assert.deepEqual(event.sourceIPs, ["127.0.0.1"]);
});

void test("logins refused for a wrong password (the server's ACL LOG) open database-login-failures within 10 s", async () => {
  const instance = await server.api<Instance>(`/apis/holdfast.io/v1alpha1/namespaces/${NS}/instances/${INSTANCE}`);
  const wrongPassword = `guess-${Date.now()}`;
  const wrong = redisAt(server, "127.0.0.1", instance.spec.port, "default", wrongPassword);
  await expectRefusedLoginIncident(server, {
    namespace: NS,
    instance: INSTANCE,
    account: "default",
    address: "127.0.0.1",
    wrongPassword,
    attempts: 12,
    attempt: async () => {
      const result = await redisCli(wrong, "PING");
      return /WRONGPASS|AUTH failed/.test(`${result.stdout}${result.stderr}`);
    },
  });
});

