/**
 * Database superuser logins (issue 13's detection rule, ADR 0036): the node agent reads the PostgreSQL instance's own
 * log (`log_connections = on`) and records a login of the superuser that Holdfast did not make as an audit event;
 * the `database-superuser-login` rule turns it into an Incident. Holdfast's own sessions (probes, replication setup)
 * open none; `psql` as the superuser with the password from the Secret opens one within 10 s, with no password in it.
 * Twelve logins with a wrong password, as a script guessing would make them, open `database-login-failures` for the
 * instance and the account within 10 s of the first.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { connectionUri, psql, startDemoServer, uriAt } from "../helpers/clients.ts";
import type { TestServer } from "../helpers/harness.ts";
import type { Instance } from "../../src/api/index.ts";
import { expectOneLoginIncident, expectRefusedLoginIncident, loginEvents, loginIncidents, refusedLoginIncidents } from "../helpers/superuser-logins.ts";
import { postgresExample } from "../helpers/manifests.ts";

const NS = "demo";
const NAME = "pg-cluster";
const INSTANCE = `${NAME}-postgresql-0`;

let server: TestServer;

before(async () => {
  let major: string;
  ({ server, major } = await startDemoServer());
  await server.ok(["apply", "-f", "-"], await postgresExample(major));
  await server.ok(["wait", `cluster/${NAME}`, "-n", NS, "--for=phase=Running", "--timeout=240s"]);
});

after(async () => {
  await server.destroy();
});

void test("Holdfast's own sessions open no incident; psql as the superuser opens one within 10 s", async () => {
  // The node agent probes the instance over SQL every few seconds, each probe a logged login as the superuser.
  const log = await server.ok(["logs", INSTANCE, "-n", NS]);
  assert.match(log, /connection authorized: user=postgres/, "the instance logs logins (log_connections = on)");
  await sleep(8000);
  assert.match(await server.ok(["logs", INSTANCE, "-n", NS, "--since", "8s"]), /connection authorized: user=postgres/, "Holdfast logged in meanwhile");
  assert.deepEqual(await loginIncidents(server), [], "Holdfast's own logins open no incident");
  assert.deepEqual(await loginEvents(server), [], "nor any login event");
  assert.deepEqual(await refusedLoginIncidents(server), [], "nor any refused-login incident");

  const uri = await connectionUri(server, NAME, NS);
  const password = decodeURIComponent(new URL(uri).password);
  assert.equal(new URL(uri).username, "postgres", "the URI logs in as the superuser");
  const started = Date.now();
  const result = await psql(uri, "SELECT 1");
  assert.equal(result.code, 0, result.stderr);
  await expectOneLoginIncident(server, { namespace: NS, instance: INSTANCE, account: "postgres", password, started });
});

void test("logins refused for a wrong password, as a guessing script makes them, open database-login-failures within 10 s", async () => {
  const instance = await server.api<Instance>(`/apis/holdfast.io/v1alpha1/namespaces/${NS}/instances/${INSTANCE}`);
  const wrong = new URL(uriAt(await connectionUri(server, NAME, NS), "127.0.0.1", instance.spec.port));
  const wrongPassword = `guess-${Date.now()}`;
  wrong.password = wrongPassword;
  await expectRefusedLoginIncident(server, {
    namespace: NS,
    instance: INSTANCE,
    account: "postgres",
    address: "127.0.0.1",
    wrongPassword,
    attempts: 12,
    attempt: async () => {
      const result = await psql(wrong.toString(), "SELECT 1");
      return result.code !== 0 && /password authentication failed for user "postgres"/.test(result.stderr);
    },
  });
});

void test("holdfast logs -c audit: a PostgreSQL instance keeps its connections in its database log, and says so", async () => {
  const result = await server.cli(["logs", INSTANCE, "-n", NS, "-c", "audit"]);
  assert.notEqual(result.code, 0);
  assert.match(result.stderr, /keeps no connection log apart from its database log \(postgresql\): read that one, without -c/);
  const bogus = await server.cli(["logs", INSTANCE, "-n", NS, "-c", "sidecar"]);
  assert.match(bogus.stderr, /unknown container "sidecar": use database \(the default\), exporter or audit/);
});
