/**
 * KubeBlocks' `systemAccounts` end to end (ADR 0052), through the real server and the engines' own clients:
 * - PostgreSQL whose `postgres` password comes from the user's Secret (`secretRef`, with symbols in it): psql logs in
 *   with exactly that password; a cluster naming a Secret that does not exist is refused, naming the field;
 * - Redis whose `default` password is generated under `passwordConfig` (length, digits, symbols): the account Secret
 *   holds such a password and redis-cli logs in with it;
 * - a reference to a Secret of another namespace, and a change once the cluster exists, are refused naming the field.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { stringify } from "yaml";
import type { Secret } from "../../src/api/index.ts";
import { connectionUri, installedRedisVersion, psql, redisCli, redisConnection, startDemoServer } from "../helpers/clients.ts";
import { eventually, type TestServer } from "../helpers/harness.ts";
import { exampleWith, postgresExample } from "../helpers/manifests.ts";

let server: TestServer;
let major: string;
/** A password a user might choose: symbols URIs, option files and conninfo strings must all carry. */
const GIVEN = "Given#Pass&w0rd@!*%";

before(async () => {
  ({ server, major } = await startDemoServer());
});

after(async () => {
  await server.destroy();
});

async function accountPassword(name: string): Promise<string> {
  const secret = await server.api<Secret>(`/api/v1/namespaces/demo/secrets/${name}`);
  return Buffer.from(secret.data?.["password"] ?? "", "base64").toString("utf8");
}

describe("the administrator's password from the user's Secret", () => {
  test("a cluster naming a missing Secret is refused; with the Secret it runs with that password", async () => {
    const missing = await server.cli(["apply", "-f", "-"], await postgresExample(major, (doc) => {
      doc["metadata"].name = "pg-given";
      doc["spec"].componentSpecs[0].systemAccounts = [{ name: "postgres", secretRef: { name: "pg-given-root", namespace: "demo", password: "pw" } }];
    }));
    // References are read as the requester: the Secret must exist (and be theirs to read) when the cluster is written.
    assert.notEqual(missing.code, 0, "a cluster naming a missing Secret is not stored");
    assert.match(missing.stderr, /systemAccounts\[0\]\.secretRef\.name/);
    assert.match(missing.stderr, /Not found: secret demo\/pg-given-root/);

    const secret = { apiVersion: "v1", kind: "Secret", metadata: { name: "pg-given-root", namespace: "demo" }, stringData: { pw: GIVEN } };
    await server.ok(["apply", "-f", "-"], stringify(secret));
    await server.ok(["apply", "-f", "-"], await postgresExample(major, (doc) => {
      doc["metadata"].name = "pg-given";
      doc["spec"].componentSpecs[0].systemAccounts = [{ name: "postgres", secretRef: { name: "pg-given-root", namespace: "demo", password: "pw" } }];
    }));
    await server.ok(["wait", "cluster/pg-given", "-n", "demo", "--for=phase=Running", "--timeout=180s"]);
    assert.equal(await accountPassword("pg-given-postgresql-account-postgres"), GIVEN, "the account Secret holds the given password");
    const uri = await connectionUri(server, "pg-given", "demo");
    const url = new URL(uri);
    assert.equal(decodeURIComponent(url.password), GIVEN);
    const result = await psql(uri, "select current_user");
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.trim(), "postgres");
  });

  test("a Secret of another namespace and a change once the cluster exists are refused, naming the field", async () => {
    const other = await server.cli(["apply", "-f", "-"], await postgresExample(major, (doc) => {
      doc["metadata"].name = "pg-other";
      doc["spec"].componentSpecs[0].systemAccounts = [{ name: "postgres", secretRef: { name: "pg-given-root", namespace: "default" } }];
    }));
    assert.notEqual(other.code, 0);
    assert.match(other.stderr, /spec\.componentSpecs\[0\]\.systemAccounts\[0\]\.secretRef\.namespace/);
    const changed = await server.cli(["apply", "-f", "-"], await postgresExample(major, (doc) => {
      doc["metadata"].name = "pg-given";
      doc["spec"].componentSpecs[0].systemAccounts = [{ name: "postgres", passwordConfig: { length: 20 } }];
    }));
    assert.notEqual(changed.code, 0);
    assert.match(changed.stderr, /systemAccounts.*immutable.*rotate-password/s);
  });
});

describe("a generated password under passwordConfig", () => {
  test("Redis' default account gets a password of the length, digits and symbols asked, and redis-cli logs in with it", async () => {
    const version = await installedRedisVersion();
    await server.ok(["apply", "-f", "-"], await exampleWith("redis/cluster-standalone.yaml", (doc) => {
      doc["metadata"].name = "redis-policy";
      doc["spec"].componentSpecs[0].serviceVersion = version;
      doc["spec"].componentSpecs[0].systemAccounts = [{ name: "default", passwordConfig: { length: 24, numDigits: 5, numSymbols: 3, letterCase: "MixedCases" } }];
    }));
    await server.ok(["wait", "cluster/redis-policy", "-n", "demo", "--for=phase=Running", "--timeout=120s"]);
    const password = await eventually("the account Secret", async () => (await accountPassword("redis-policy-redis-account-default")) || undefined);
    assert.equal(password.length, 24);
    assert.equal(password.replace(/[^0-9]/g, "").length, 5);
    assert.equal(password.replace(/[^!@#&*]/g, "").length, 3);
    const ping = await redisCli(await redisConnection(server, "redis-policy", "demo"), "PING");
    assert.equal(ping.code, 0, ping.stderr);
    assert.equal(ping.stdout.trim(), "PONG");
  });
});
