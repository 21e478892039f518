/**
 * Superuser logins to MariaDB (issue 13's `database-superuser-login` rule, ADR 0036): each instance logs its
 * connections with the server_audit plugin (CONNECT events only) into a file beside its data directory; the node agent
 * follows it and records a login of `root` that Holdfast did not make as an audit event, which the rule turns into an
 * Incident. A replication cluster (a primary and a replica cloned from it by mariadb-dump) runs its own background
 * activity for 30 s (probes and replication checks, all as root) and opens none; the real `mariadb`
 * client logging in as root over verified TLS opens one within 10 s naming the account and the address. Twelve
 * logins with a wrong password (FAILED_CONNECT events) open `database-login-failures` within 10 s of the first.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { Instance } from "../../src/api/index.ts";
import { createMariadbEngine } from "../../src/engines/index.ts";
import { clusterCaFile, connectionUri, uriAt } from "../helpers/clients.ts";
import { eventually, TestServer } from "../helpers/harness.ts";
import { exampleWith } from "../helpers/manifests.ts";
import { mariadbOverTls } from "../helpers/mariadb-cli.ts";
import { expectOneLoginIncident, expectRefusedLoginIncident, loginEvents, loginIncidents, refusedLoginIncidents } from "../helpers/superuser-logins.ts";

const installed = await createMariadbEngine().detectVersions();
const skip = installed.length === 0 ? "mariadbd is not installed (Debian: apt-get install -y mariadb-server mariadb-client mariadb-backup)" : false;
const version = installed[0]?.version ?? "";
const NS = "demo";
const NAME = "mariadb-cluster";
const MEMBERS = [`${NAME}-mariadb-0`, `${NAME}-mariadb-1`];
/** How long the cluster's own activity is watched for a false alarm. */
const QUIET_MS = 30_000;

let server: TestServer;

async function members(): Promise<Instance[]> {
  return Promise.all(MEMBERS.map((name) => server.api<Instance>(`/apis/holdfast.io/v1alpha1/namespaces/${NS}/instances/${name}`)));
}

/** The primary, once both members are ready, one primary and one replica. */
async function primary(): Promise<Instance> {
  return eventually("a ready primary and a ready replica", async () => {
    const all = await members();
    if (!all.every((i) => i.status?.ready === true)) return undefined;
    const roles = all.map((i) => i.status?.role).sort();
    return roles.join(",") === "primary,secondary" ? all.find((i) => i.status?.role === "primary") : undefined;
  }, 240_000);
}

/** The instance's connection log (server_audit), beside its data directory. */
function auditLog(instance: Instance): string {
  return join(server.home, "instances", NS, instance.metadata.name, "log", "audit.log");
}

describe("MariaDB superuser logins", { skip, timeout: 600_000 }, () => {
  before(async () => {
    server = await TestServer.start({ initArgs: ["--advertise", "127.0.88.1"], listenHost: "127.0.88.1" });
    await server.ok(["create", "namespace", NS]);
    await server.ok(["apply", "-f", "-"], await exampleWith("mariadb/cluster.yaml", (doc) => {
      doc["spec"].clusterDef = "mariadb";
      doc["spec"].topology = "replication";
      doc["spec"].componentSpecs[0].replicas = 2;
      doc["spec"].componentSpecs[0].serviceVersion = version;
    }));
    await server.ok(["wait", `cluster/${NAME}`, "-n", NS, "--for=phase=Running", "--timeout=240s"]);
  });

  after(async () => {
    await server.destroy();
  });

  test("the cluster's own logins, the clone's included, open no incident; mariadb as root over TLS opens one within 10 s", async () => {
    const leader = await primary();
    await sleep(QUIET_MS);
    assert.deepEqual(await loginIncidents(server), [], "Holdfast's own logins open no incident");
    assert.deepEqual(await loginEvents(server), [], "nor any login event");
    assert.deepEqual(await refusedLoginIncidents(server), [], "nor any refused-login incident");
    const own = (await readFile(auditLog(leader), "utf8")).match(/,root,[^,]+,\d+,\d+,CONNECT,/gu) ?? [];
    assert.ok(own.length >= 10, `the primary logged Holdfast's own root logins meanwhile (${own.length})`);
    console.log(`${own.length} root logins by Holdfast on the primary, none reported`);

    const url = new URL(uriAt(await connectionUri(server, NAME, NS), "127.0.0.1", leader.spec.port));
    assert.equal(decodeURIComponent(url.username), "root", "the URI logs in as the administrator");
    const started = Date.now();
    const result = await mariadbOverTls(url, clusterCaFile(server), "SELECT CURRENT_USER(), @@hostname IS NOT NULL; SHOW STATUS LIKE 'Ssl_version'");
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^root@%\t1\nSsl_version\tTLSv1\.[23]\n$/u);
    const event = await expectOneLoginIncident(server, { namespace: NS, instance: leader.metadata.name, account: "root", password: decodeURIComponent(url.password), started });
    assert.deepEqual(event.sourceIPs, ["127.0.0.1"]);
  });

  test("logins refused for a wrong password open database-login-failures within 10 s", async () => {
    const leader = await primary();
    const wrong = new URL(uriAt(await connectionUri(server, NAME, NS), "127.0.0.1", leader.spec.port));
    const wrongPassword = `guess-${Date.now()}`;
    wrong.password = wrongPassword;
    await expectRefusedLoginIncident(server, {
      namespace: NS,
      instance: leader.metadata.name,
      account: "root",
      address: "127.0.0.1",
      wrongPassword,
      attempts: 12,
      attempt: async () => {
        const result = await mariadbOverTls(wrong, clusterCaFile(server), "SELECT 1");
        return result.code !== 0 && /Access denied for user 'root'/.test(result.stderr);
      },
    });
  });

  test("the connection log is the instance's OS user's alone, holds no password, and holdfast logs still shows the error log", async () => {
    const leader = await primary();
    const file = auditLog(leader);
    const info = await stat(file);
    assert.equal(info.mode & 0o777, 0o600);
    assert.notEqual(info.uid, 0, "written by the instance's OS user");
    const text = await readFile(file, "utf8");
    assert.match(text, /,root,127\.0\.0\.1,\d+,\d+,CONNECT,,,0\n/u);
    const password = decodeURIComponent(new URL(await connectionUri(server, NAME, NS)).password);
    assert.ok(!text.includes(password), "no password in the connection log");
    assert.doesNotMatch(text, /,QUERY,/u, "no statement in it");
    const log = await server.ok(["logs", leader.metadata.name, "-n", NS, "--tail", "200"]);
    assert.match(log, /ready for connections/u);
    assert.match(await server.ok(["logs", leader.metadata.name, "-n", NS, "--since", "24h"]), /ready for connections/u, "--since reads MariaDB's times (its hour is not padded)");
    const connections = await server.ok(["logs", leader.metadata.name, "-n", NS, "-c", "audit", "--since", "10m"]);
    assert.match(connections, /,root,127\.0\.0\.1,\d+,\d+,FAILED_CONNECT,,,1045\n/u, "holdfast logs -c audit shows the connection log, the refused logins of the test before included");
    assert.ok(!connections.includes(password), "no password in it");
  });
});
