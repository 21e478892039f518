/**
 * Done-when 2, 5, 6 and 7: KubeBlocks example manifests reach Running with real PostgreSQL and Redis,
 * generated credentials work and are required, a killed database is restarted, Start/Stop/Restart
 * OpsRequests from the examples succeed, deletion honours terminationPolicy, and no password is
 * stored in plaintext anywhere in the home.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Instance, Secret } from "../../src/api/index.ts";
import { connectionUri, psql, redisCli, redisConnection, startDemoServer } from "../helpers/clients.ts";
import type { TestServer } from "../helpers/harness.ts";
import { eventually, processesInside, run } from "../helpers/harness.ts";
import { example, exampleWith, postgresExample } from "../helpers/manifests.ts";

let server: TestServer;
let major: string;

before(async () => {
  ({ server, major } = await startDemoServer());
});

after(async () => {
  await server.destroy();
});

async function instance(name: string): Promise<Instance> {
  return server.api<Instance>(`/apis/holdfast.io/v1alpha1/namespaces/demo/instances/${name}`);
}

/** Every regular file below a directory (a plain walk; files may come and go while the databases run). */
async function filesUnder(directory: string): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await readdir(directory, { withFileTypes: true }).catch(() => [])) {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) files.push(...(await filesUnder(path)));
    else if (entry.isFile()) files.push(path);
  }
  return files;
}

describe("PostgreSQL from the KubeBlocks example", () => {
  test("reaches Running and psql connects with the generated password", async () => {
    await server.ok(["apply", "-f", "-"], await postgresExample(major));
    await server.ok(["wait", "cluster/pg-cluster", "-n", "demo", "--for=phase=Running", "--timeout=120s"]);
    const uri = await connectionUri(server, "pg-cluster", "demo");
    const result = await psql(uri, "select 1");
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.trim(), "1");
  });

  test("a connection without the password is refused", async () => {
    const pod = await instance("pg-cluster-postgresql-0");
    const noPassword = await run("psql", ["-h", "127.0.0.1", "-p", String(pod.spec.port), "-U", "postgres", "-w", "-c", "select 1"], { env: { PATH: process.env["PATH"] ?? "" } });
    assert.notEqual(noPassword.code, 0);
    assert.match(noPassword.stderr, /password/i);
    const wrong = await psql(`postgresql://postgres:wrong-password@127.0.0.1:${pod.spec.port}/postgres`, "select 1");
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.stderr, /password authentication failed/);
  });

  test("the local runtime's limits are reported in a condition, not dropped", async () => {
    const cluster = await server.api<{ status: { conditions: { type: string; status: string; message: string }[] } }>("/apis/apps.kubeblocks.io/v1/namespaces/demo/clusters/pg-cluster");
    const limitation = cluster.status.conditions.find((c) => c.type === "RuntimeLimitations");
    assert.equal(limitation?.status, "True");
    assert.match(limitation.message, /cpu/);
    assert.doesNotMatch(limitation.message, /storage|20Gi/, "storage is enforced as a quota (StorageFull), so it is no limitation");
  });

  test("kill -9 of the postmaster: it is restarted, and describe shows the restart and an event", async () => {
    const before = await instance("pg-cluster-postgresql-0");
    const oldPid = before.status?.pid;
    assert.ok(oldPid);
    process.kill(oldPid, "SIGKILL");
    const restarted = await eventually("a restarted, ready postmaster", async () => {
      const now = await instance("pg-cluster-postgresql-0");
      return now.status?.ready === true && now.status.pid !== oldPid && (now.status.restartCount ?? 0) >= 1 ? now : undefined;
    });
    assert.equal(restarted.status?.restartCount, 1);
    const uri = await connectionUri(server, "pg-cluster", "demo");
    assert.equal((await psql(uri, "select 2")).stdout.trim(), "2");
    const described = await server.ok(["describe", "cluster", "pg-cluster", "-n", "demo"]);
    assert.match(described, /BackOff/);
    assert.match(described, /exited unexpectedly/);
  });

  test("Stop, Start and Restart OpsRequests from the examples succeed and do what they say", async () => {
    const pod = await instance("pg-cluster-postgresql-0");
    const uri = await connectionUri(server, "pg-cluster", "demo");
    await server.ok(["apply", "-f", "-"], await example("postgresql/stop.yaml"));
    await server.ok(["wait", "opsrequest/pg-stop", "-n", "demo", "--for=phase=Succeed", "--timeout=120s"]);
    assert.equal((await instance("pg-cluster-postgresql-0")).status?.phase, "Stopped");
    assert.notEqual((await psql(uri, "select 1")).code, 0, "a stopped cluster must not answer");
    await server.ok(["wait", "cluster/pg-cluster", "-n", "demo", "--for=phase=Stopped", "--timeout=30s"]);

    await server.ok(["apply", "-f", "-"], await example("postgresql/start.yaml"));
    await server.ok(["wait", "opsrequest/pg-start", "-n", "demo", "--for=phase=Succeed", "--timeout=120s"]);
    assert.equal((await psql(uri, "select 3")).stdout.trim(), "3");

    const beforeRestart = (await instance("pg-cluster-postgresql-0")).status?.pid;
    await server.ok(["apply", "-f", "-"], await example("postgresql/restart.yaml"));
    await server.ok(["wait", "opsrequest/pg-restart", "-n", "demo", "--for=phase=Succeed", "--timeout=120s"]);
    const afterRestart = await instance("pg-cluster-postgresql-0");
    assert.notEqual(afterRestart.status?.pid, beforeRestart);
    assert.equal(afterRestart.spec.port, pod.spec.port, "the port stays the same across stop, start and restart");
    assert.equal((await psql(uri, "select 4")).stdout.trim(), "4");
  });

  test("kbcli's shortcuts: cluster stop, start and restart create the OpsRequests and --wait follows them", async () => {
    const uri = await connectionUri(server, "pg-cluster", "demo");
    const stopped = await server.cli(["cluster", "stop", "pg-cluster", "-n", "demo", "--wait"]);
    assert.equal(stopped.code, 0, stopped.stderr);
    assert.match(stopped.stdout, /^opsrequest\.operations\.kubeblocks\.io\/pg-cluster-stop-[0-9a-f]{5} created$/m);
    assert.match(stopped.stderr, /Succeed/);
    assert.equal((await instance("pg-cluster-postgresql-0")).status?.phase, "Stopped");
    assert.equal((await server.cli(["cluster", "start", "pg-cluster", "-n", "demo", "--wait"])).code, 0);
    const before = (await instance("pg-cluster-postgresql-0")).status?.pid;
    assert.equal((await server.cli(["cluster", "restart", "pg-cluster", "-n", "demo", "--component", "postgresql", "--wait"])).code, 0);
    assert.notEqual((await instance("pg-cluster-postgresql-0")).status?.pid, before);
    assert.equal((await psql(uri, "select 5")).stdout.trim(), "5");
    const wrong = await server.cli(["cluster", "restart", "pg-cluster", "-n", "demo", "--component", "nope"]);
    assert.equal(wrong.code, 2);
    assert.match(wrong.stderr, /has no component "nope"; its components: postgresql/);
  });
});

describe("PostgreSQL reconfiguration", () => {
  test("a new memory limit restarts the instance with parameters sized from it", async () => {
    const uri = await connectionUri(server, "pg-cluster", "demo");
    assert.equal((await psql(uri, "show shared_buffers")).stdout.trim(), "128MB", "0.5Gi gives a quarter of it");
    await server.ok(["apply", "-f", "-"], await postgresExample(major, (doc) => (doc["spec"].componentSpecs[0].resources.limits.memory = "1Gi")));
    await eventually("shared_buffers of 256MB", async () => ((await psql(uri, "show shared_buffers")).stdout.trim() === "256MB" ? true : undefined));
    await server.ok(["wait", "cluster/pg-cluster", "-n", "demo", "--for=phase=Running", "--timeout=60s"]);
    const events = await server.ok(["describe", "instance", "pg-cluster-postgresql-0", "-n", "demo"]);
    assert.match(events, /Reconfigured/);
  });
});

describe("Redis standalone from the KubeBlocks example", () => {
  test("reaches Running and redis-cli connects only with the generated password", async () => {
    await server.ok(["apply", "-f", "-"], await example("redis/cluster-standalone.yaml"));
    await server.ok(["wait", "cluster/redis-standalone", "-n", "demo", "--for=phase=Running", "--timeout=120s"]);
    const connection = await redisConnection(server, "redis-standalone", "demo");
    assert.match(connection.uri, /^rediss:\/\//, "the URI asks for TLS");
    const ping = await redisCli(connection, "PING");
    assert.equal(ping.stdout.trim(), "PONG", ping.stderr);
    const pod = await instance("redis-standalone-redis-0");
    const anonymous = await run("redis-cli", ["--tls", "--cacert", connection.caFile, "-h", "127.0.0.1", "-p", String(pod.spec.port), "PING"]);
    assert.match(anonymous.stdout + anonymous.stderr, /NOAUTH|Authentication required/);
    const plain = await run("redis-cli", ["-h", "127.0.0.1", "-p", String(pod.spec.port), "PING"]);
    assert.doesNotMatch(plain.stdout, /PONG|NOAUTH/, "the instance speaks TLS only");
  });
});

describe("secrets at rest", () => {
  test("no generated password appears in plaintext (or base64) in any file of the home", async () => {
    const secrets = await server.api<{ items: Secret[] }>("/api/v1/namespaces/demo/secrets");
    const passwords = secrets.items.map((s) => Buffer.from(s.data?.["password"] ?? "", "base64").toString());
    assert.ok(passwords.length >= 2, "both clusters have account secrets");
    for (const password of passwords) assert.match(password, /^[A-Za-z0-9]{16}$/);
    const files = await filesUnder(server.home);
    assert.ok(files.some((f) => f.endsWith("store.db")));
    for (const file of files) {
      const content = await readFile(file).catch(() => Buffer.alloc(0));
      for (const password of passwords) {
        assert.equal(content.includes(password), false, `${file} holds a password in plaintext`);
        assert.equal(content.includes(Buffer.from(password).toString("base64")), false, `${file} holds a password in base64`);
      }
    }
  });
});

describe("deletion honours terminationPolicy", () => {
  test("DoNotTerminate is refused with a clear message; Delete leaves no process, port or data behind", async () => {
    await server.ok(["apply", "-f", "-"], await postgresExample(major, (doc) => (doc["spec"].terminationPolicy = "DoNotTerminate")));
    const refused = await server.cli(["delete", "cluster", "pg-cluster", "-n", "demo"]);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /DoNotTerminate/);
    const kept = await server.api<{ metadata: { deletionTimestamp?: string } }>("/apis/apps.kubeblocks.io/v1/namespaces/demo/clusters/pg-cluster");
    assert.equal(kept.metadata.deletionTimestamp, undefined, "the refused delete changed nothing");
    assert.ok((await instance("pg-cluster-postgresql-0")).status?.pid, "the instance still runs");

    const pod = await instance("pg-cluster-postgresql-0");
    const dataDir = pod.status?.dataDirectory;
    assert.ok(dataDir);
    await server.ok(["apply", "-f", "-"], await postgresExample(major, (doc) => (doc["spec"].terminationPolicy = "Delete")));
    await server.ok(["delete", "cluster", "pg-cluster", "-n", "demo", "--wait", "--timeout=120s"]);
    await assert.rejects(stat(dataDir), /ENOENT/, "the data directory is gone");
    const instanceRoot = join(server.home, "instances", "demo", "pg-cluster-postgresql-0");
    assert.deepEqual(await processesInside(instanceRoot), [], "no process is left");
    const portInUse = await run("bash", ["-c", `exec 3<>/dev/tcp/127.0.0.1/${pod.spec.port}`]);
    assert.notEqual(portInUse.code, 0, "nothing listens on the port any more");
    const secrets = await server.api<{ items: Secret[] }>("/api/v1/namespaces/demo/secrets");
    assert.equal(secrets.items.filter((s) => s.metadata.name.startsWith("pg-cluster-")).length, 0, "the account secret went with the cluster");
  });

  test("Delete of the Redis cluster through its example works too", async () => {
    await server.ok(["delete", "cluster", "redis-standalone", "-n", "demo", "--wait", "--timeout=120s"]);
    const remaining = await exampleWith("redis/cluster-standalone.yaml", () => undefined);
    assert.ok(remaining.length > 0);
    assert.deepEqual(await processesInside(join(server.home, "instances")), []);
  });
});
