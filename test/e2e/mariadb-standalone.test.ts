/**
 * Issue 15, done-when 1 (standalone) and 4: the KubeBlocks MariaDB example reaches Running with a real mariadbd,
 * `holdfast cluster connect` opens the real `mariadb` client with the generated credentials (TLS verified), a
 * connection without the password is refused, Stop/Start/Restart from the examples succeed, and MySQL manifests are
 * refused with a message naming the field and listing the installed engines and versions.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Instance } from "../../src/api/index.ts";
import { createMariadbEngine } from "../../src/engines/index.ts";
import { clusterCaFile, connectionUri } from "../helpers/clients.ts";
import { run, TestServer, type CliResult } from "../helpers/harness.ts";
import { example, exampleWith } from "../helpers/manifests.ts";

const installed = await createMariadbEngine().detectVersions();
const skip = installed.length === 0 ? "mariadbd is not installed (Debian: apt-get install -y mariadb-server mariadb-client mariadb-backup)" : false;
if (skip !== false) console.log(`# skipped: ${skip}`);
const version = installed[0]?.version ?? "";

let server: TestServer;

/** The real mariadb client at a URI holdfast printed, over TLS checked against the cluster CA; the credentials go in as an option file on stdin (a shell here-document, a real pipe), never argv. */
function mariadbAt(uri: string, sql: string, extra: string[] = []): Promise<CliResult> {
  const url = new URL(uri);
  const options = `[client]\nuser=${decodeURIComponent(url.username)}\npassword=${decodeURIComponent(url.password)}\n`;
  return run("sh", ["-c", `exec mariadb --defaults-extra-file=/dev/stdin "$@" <<'EOF'\n${options}EOF`, "mariadb", `--host=${url.hostname}`, `--port=${url.port}`, "--protocol=TCP", "--ssl", `--ssl-ca=${clusterCaFile(server)}`, "--ssl-verify-server-cert", "-N", "-B", ...extra, "-e", sql], { timeoutMs: 30_000 });
}

async function instance(name: string): Promise<Instance> {
  return server.api<Instance>(`/apis/holdfast.io/v1alpha1/namespaces/demo/instances/${name}`);
}

describe("MariaDB from the KubeBlocks example", { skip, timeout: 600_000 }, () => {
  before(async () => {
    server = await TestServer.start();
    await server.ok(["create", "namespace", "demo"]);
  });

  after(async () => {
    await server.destroy();
  });

  test("a MySQL manifest is refused, naming the field and listing the installed engines and versions", async () => {
    const mysql = await exampleWith("mariadb/cluster.yaml", (doc) => {
      doc["metadata"].name = "mysql-cluster";
      doc["spec"].clusterDef = "mysql";
      doc["spec"].componentSpecs[0].name = "mysql";
      delete doc["spec"].componentSpecs[0].componentDef;
      doc["spec"].componentSpecs[0].serviceVersion = "8.0.35";
    });
    const refused = await server.cli(["apply", "-f", "-"], mysql);
    assert.notEqual(refused.code, 0);
    const message = refused.stdout + refused.stderr;
    assert.match(message, /spec\.clusterDef/);
    assert.match(message, /mysql server binaries are not installed on this host/);
    assert.match(message, /installed engines: postgresql [0-9.]+.*; redis [0-9.]+; mariadb [0-9.]+/);
    assert.ok(message.includes(`mariadb ${version}`), `the installed MariaDB ${version} is listed`);
    const byVersion = await server.cli(["apply", "-f", "-"], await exampleWith("mariadb/cluster.yaml", (doc) => (doc["spec"].componentSpecs[0].serviceVersion = "8.0.35")));
    assert.notEqual(byVersion.code, 0);
    assert.match(byVersion.stdout + byVersion.stderr, /spec\.componentSpecs\[0\]\.serviceVersion.*installed mariadb versions: /s);
  });

  test("reaches Running; cluster connect opens mariadb with the generated credentials over verified TLS", async () => {
    await server.ok(["apply", "-f", "-"], await exampleWith("mariadb/cluster.yaml", (doc) => (doc["spec"].componentSpecs[0].serviceVersion = version)));
    await server.ok(["wait", "cluster/mariadb-cluster", "-n", "demo", "--for=phase=Running", "--timeout=180s"]);
    const connected = await server.cli(["cluster", "connect", "mariadb-cluster", "-n", "demo"], "SELECT CONCAT('answer-', 6 * 7), @@innodb_buffer_pool_size, CURRENT_USER();\nSHOW STATUS LIKE 'Ssl_version';\n");
    assert.equal(connected.code, 0, connected.stderr);
    assert.match(connected.stdout, /answer-42\t268435456\troot@%/, "the 0.5Gi limit gives a 256 MiB buffer pool");
    assert.match(connected.stdout, /Ssl_version\tTLSv1\.[23]/);
    const uri = await connectionUri(server, "mariadb-cluster", "demo");
    assert.match(uri, /^mariadb:\/\/root:[A-Za-z0-9]{16}@127\.0\.0\.1:\d+\/\?ssl-mode=VERIFY_IDENTITY$/);
    const viaUri = await mariadbAt(uri, "SELECT 7");
    assert.equal(viaUri.stdout.trim(), "7", viaUri.stderr);
  });

  test("a connection without the password, or without TLS, is refused", async () => {
    const pod = await instance("mariadb-cluster-mariadb-0");
    const port = String(pod.spec.port);
    const noPassword = await run("mariadb", ["--no-defaults", "--host=127.0.0.1", `--port=${port}`, "--user=root", "--ssl", `--ssl-ca=${clusterCaFile(server)}`, "-e", "SELECT 1"]);
    assert.notEqual(noPassword.code, 0);
    assert.match(noPassword.stderr, /Access denied for user 'root'/);
    const anonymous = await run("mariadb", ["--no-defaults", "--host=127.0.0.1", `--port=${port}`, "--user=", "--ssl", `--ssl-ca=${clusterCaFile(server)}`, "-e", "SELECT 1"]);
    assert.notEqual(anonymous.code, 0);
    const uri = await connectionUri(server, "mariadb-cluster", "demo");
    const url = new URL(uri);
    const plain = await run("sh", ["-c", `exec mariadb --defaults-extra-file=/dev/stdin --host=127.0.0.1 --port=${port} --skip-ssl -e 'SELECT 1' <<'EOF'\n[client]\nuser=root\npassword=${decodeURIComponent(url.password)}\nEOF`]);
    assert.notEqual(plain.code, 0, "require_secure_transport refuses plain TCP, even with the right password");
    assert.match(plain.stderr, /insecure transport|Access denied/i);
    const withTls = await mariadbAt(uri, "SELECT 1");
    assert.equal(withTls.code, 0, `the same credentials over TLS are accepted: ${withTls.stderr}`);
  });

  test("Stop, Start and Restart OpsRequests from the examples succeed and do what they say", async () => {
    const uri = await connectionUri(server, "mariadb-cluster", "demo");
    const pod = await instance("mariadb-cluster-mariadb-0");
    await mariadbAt(uri, "CREATE DATABASE kept; CREATE TABLE kept.t (v INT PRIMARY KEY); INSERT INTO kept.t VALUES (1)");
    await server.ok(["apply", "-f", "-"], await example("mariadb/stop.yaml"));
    await server.ok(["wait", "opsrequest/mariadb-stop", "-n", "demo", "--for=phase=Succeed", "--timeout=180s"]);
    assert.equal((await instance("mariadb-cluster-mariadb-0")).status?.phase, "Stopped");
    assert.notEqual((await mariadbAt(uri, "SELECT 1")).code, 0, "a stopped cluster must not answer");
    await server.ok(["wait", "cluster/mariadb-cluster", "-n", "demo", "--for=phase=Stopped", "--timeout=60s"]);

    await server.ok(["apply", "-f", "-"], await example("mariadb/start.yaml"));
    await server.ok(["wait", "opsrequest/mariadb-start", "-n", "demo", "--for=phase=Succeed", "--timeout=180s"]);
    assert.equal((await mariadbAt(uri, "SELECT v FROM kept.t")).stdout.trim(), "1", "data survives stop and start");

    const beforeRestart = (await instance("mariadb-cluster-mariadb-0")).status?.pid;
    await server.ok(["apply", "-f", "-"], await example("mariadb/restart.yaml"));
    await server.ok(["wait", "opsrequest/mariadb-restart", "-n", "demo", "--for=phase=Succeed", "--timeout=180s"]);
    const afterRestart = await instance("mariadb-cluster-mariadb-0");
    assert.notEqual(afterRestart.status?.pid, beforeRestart);
    assert.equal(afterRestart.spec.port, pod.spec.port, "the port stays the same across stop, start and restart");
    assert.equal((await mariadbAt(uri, "SELECT v + 1 FROM kept.t")).stdout.trim(), "2");
  });
});
