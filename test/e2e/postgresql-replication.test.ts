/**
 * High availability, done-when 1 and 2: the KubeBlocks PostgreSQL example with 3 replicas reaches Running
 * with one primary and two streaming replicas, and a row written through the read-write endpoint is read
 * through the read-only endpoint; Switchover with and without a candidate ends Succeed with the roles
 * swapped and the endpoint following; the endpoints keep their ports across a control-plane restart.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import type { Cluster, ClusterEndpoint, Instance, OpsRequest } from "../../src/api/index.ts";
import { connectionUri, psql, startDemoServer } from "../helpers/clients.ts";
import { eventually, type TestServer } from "../helpers/harness.ts";
import { exampleWith } from "../helpers/manifests.ts";
import { onPort, startPrimaryWatcher } from "../helpers/primary-watcher.ts";

const NS = "demo";
const NAME = "pg-cluster";
const MEMBERS = [0, 1, 2].map((i) => `${NAME}-postgresql-${i}`);

let server: TestServer;
let major: string;

before(async () => {
  ({ server, major } = await startDemoServer());
});

after(async () => {
  await server.destroy();
});

async function cluster(): Promise<Cluster> {
  return server.api<Cluster>(`/apis/apps.kubeblocks.io/v1/namespaces/${NS}/clusters/${NAME}`);
}

async function instances(): Promise<Instance[]> {
  return Promise.all(MEMBERS.map((name) => server.api<Instance>(`/apis/holdfast.io/v1alpha1/namespaces/${NS}/instances/${name}`)));
}

async function ops(name: string): Promise<OpsRequest> {
  return server.api<OpsRequest>(`/apis/operations.kubeblocks.io/v1alpha1/namespaces/${NS}/opsrequests/${name}`);
}

function endpoint(c: Cluster, access: ClusterEndpoint["access"]): ClusterEndpoint {
  const found = c.status?.endpoints?.find((e) => e.access === access);
  assert.ok(found, `no ${access} endpoint in ${JSON.stringify(c.status?.endpoints)}`);
  return found;
}

async function sql(uri: string, text: string): Promise<string> {
  const result = await psql(uri, text);
  assert.equal(result.code, 0, result.stderr);
  return result.stdout.trim();
}

/** Roles as the instances report them, by name. */
async function roles(): Promise<Record<string, string | undefined>> {
  return Object.fromEntries((await instances()).map((i) => [i.metadata.name, i.status?.role]));
}

/** Wait until exactly `primary` is a ready primary and every other member a ready, streaming replica with its lag reported. */
async function settled(primary: string): Promise<Instance[]> {
  return eventually(`${primary} primary with two streaming replicas`, async () => {
    const all = await instances();
    const ok = all.every((i) => {
      const role = i.metadata.name === primary ? "primary" : "secondary";
      const streaming = role === "primary" || (i.status?.replication?.state === "streaming" && typeof i.status.replication.lagBytes === "number");
      return i.status?.ready === true && i.status.role === role && i.metadata.labels?.["kubeblocks.io/role"] === role && streaming;
    });
    return ok ? all : undefined;
  }, 120_000);
}

/**
 * Writes a row through `uri` every 10 ms until stopped, reconnecting after errors; reports the longest time
 * between two acknowledged writes and every acknowledged id, so none may be missing afterwards.
 */
function startWriter(uri: string): { ackTimes: number[]; stop: () => Promise<{ acknowledged: number[]; longestGapMs: number; errors: number }> } {
  let running = true;
  const acknowledged: number[] = [];
  const ackTimes: number[] = [];
  let errors = 0;
  let longestGapMs = 0;
  const loop = (async () => {
    let client: pg.Client | undefined;
    let last = performance.now();
    for (let id = 1; running; id++) {
      try {
        if (client === undefined) {
          client = new pg.Client({ connectionString: uri, connectionTimeoutMillis: 35_000 });
          client.on("error", () => undefined);
          await client.connect();
        }
        await client.query("INSERT INTO ha_writes (id) VALUES ($1)", [id]);
        acknowledged.push(id);
        const at = performance.now();
        ackTimes.push(at);
        longestGapMs = Math.max(longestGapMs, at - last);
        last = at;
      } catch {
        errors++;
        await client?.end().catch(() => undefined);
        client = undefined;
      }
      await sleep(10);
    }
    await client?.end().catch(() => undefined);
  })();
  return {
    ackTimes,
    async stop() {
      running = false;
      await loop;
      return { acknowledged, longestGapMs, errors };
    },
  };
}

/** Apply a switchover manifest, follow it to Succeed, and check the roles moved and the endpoint followed. */
async function switchover(manifest: string, opsName: string, from: string, uri: string, roUri: string): Promise<string> {
  await sql(uri, "CREATE TABLE IF NOT EXISTS ha_writes (id int PRIMARY KEY)");
  await sql(uri, "TRUNCATE ha_writes");
  const writer = startWriter(uri);
  await sleep(300);
  const started = performance.now();
  await server.ok(["apply", "-f", "-"], manifest);
  const done = await eventually(`${opsName} finished`, async () => {
    const o = await ops(opsName);
    return o.status?.phase === "Succeed" || o.status?.phase === "Failed" ? o : undefined;
  }, 120_000);
  const elapsed = performance.now() - started;
  await sleep(300);
  const writes = await writer.stop();
  assert.equal(done.status?.phase, "Succeed", done.status?.message);
  const record = (await cluster()).status?.replication?.["postgresql"];
  const to = record?.currentPrimary;
  assert.ok(to !== undefined && to !== from, `the primary moved from ${from} (now ${to})`);
  assert.equal(record?.roleChange?.result, "Succeeded");
  await settled(to);
  const current = await roles();
  assert.equal(current[from], "secondary", "the old primary is a replica now");
  assert.equal(current[to], "primary");
  // The read-write endpoint leads to the new primary, which streams to both replicas.
  const all = await instances();
  const port = all.find((i) => i.metadata.name === to)?.spec.port;
  assert.equal(await sql(uri, "SELECT inet_server_port()"), String(port));
  assert.equal(await sql(uri, "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'"), "2");
  const stored = Number(await sql(uri, "SELECT count(*) FROM ha_writes"));
  assert.ok(stored >= writes.acknowledged.length, `every acknowledged write survived (${stored} stored, ${writes.acknowledged.length} acknowledged)`);
  await sql(uri, `INSERT INTO ha_writes (id) VALUES (-${Date.now() % 1_000_000})`);
  await eventually("the write on the new primary readable through the read-only endpoint", async () => ((await psql(roUri, "SELECT count(*) FROM ha_writes")).stdout.trim() === String(stored + 1) ? true : undefined), 10_000);
  console.log(`${opsName}: ${from} → ${to}; Succeed after ${Math.round(elapsed)} ms; longest gap between acknowledged writes through the read-write endpoint ${Math.round(writes.longestGapMs)} ms (${writes.errors} failed attempts, ${writes.acknowledged.length} acknowledged); ${record.roleChange.message ?? ""}`);
  return to;
}

/**
 * kill -9 of the primary's postmaster while a writer writes through the read-write endpoint: a replica takes over,
 * writes resume, at most one primary answers at any sampled moment, and the old primary returns as a replica.
 */
async function failover(uri: string, how: string): Promise<void> {
  const from = (await cluster()).status?.replication?.["postgresql"]?.currentPrimary ?? "";
  const all = await instances();
  const victim = all.find((i) => i.metadata.name === from);
  assert.ok(victim?.status?.pid, "the primary runs");
  await sql(uri, "CREATE TABLE IF NOT EXISTS ha_writes (id int PRIMARY KEY)");
  await sql(uri, "TRUNCATE ha_writes");
  const watcher = startPrimaryWatcher(uri, all.map((i) => i.spec.port));
  const writer = startWriter(uri);
  await sleep(500);
  const killedAt = performance.now();
  process.kill(victim.status.pid, "SIGKILL");
  const resumedAt = await eventually("a write acknowledged after the kill", () => Promise.resolve(writer.ackTimes.find((t) => t > killedAt + 50)), 60_000);
  const record = await eventually("the failover recorded", async () => {
    const r = (await cluster()).status?.replication?.["postgresql"];
    return r?.roleChange?.reason === "Failover" && r.roleChange.from === from && r.roleChange.result === "Succeeded" ? r : undefined;
  }, 60_000);
  const to = record.currentPrimary ?? "";
  assert.notEqual(to, from);
  await settled(to);
  const rejoinedMs = performance.now() - killedAt;
  const writes = await writer.stop();
  const watched = await watcher.stop();
  assert.equal(watched.mostPrimaries, 1, `at most one primary answered in each of ${watched.samples} samples`);
  assert.equal((await roles())[from], "secondary", "the old primary is back as a replica");
  const newPort = all.find((i) => i.metadata.name === to)?.spec.port;
  assert.equal(await sql(uri, "SELECT inet_server_port()"), String(newPort), "the read-write endpoint follows");
  const stored = new Set((await sql(uri, "SELECT coalesce(string_agg(id::text, ','), '') FROM ha_writes")).split(",").filter((x) => x !== "").map(Number));
  const lost = writes.acknowledged.filter((id) => !stored.has(id)).length;
  const described = await server.ok(["describe", "cluster", NAME, "-n", NS]);
  assert.match(described, /FailedOver/);
  assert.match(described, /Fenced/);
  console.log(`failover (${how}) ${from} → ${to}: first write through the endpoint ${Math.round(resumedAt - killedAt)} ms after kill -9; old primary streaming again after ${Math.round(rejoinedMs)} ms; ${writes.acknowledged.length} writes acknowledged, ${lost} of them lost (asynchronous replication), ${writes.errors} failed attempts; ${watched.samples} role samples, never more than ${watched.mostPrimaries} primary; ${record.roleChange?.message ?? ""}`);
}

describe("PostgreSQL replication topology", { timeout: 900_000 }, () => {
  let uri = "";
  let roUri = "";

  test("the example with 3 replicas reaches Running: one primary, two streaming replicas, roles and lag reported", async () => {
    const started = performance.now();
    await server.ok(["apply", "-f", "-"], await exampleWith("postgresql/cluster.yaml", (doc) => {
      doc["spec"].componentSpecs[0].replicas = 3;
      doc["spec"].componentSpecs[0].serviceVersion = major;
    }));
    await server.ok(["wait", `cluster/${NAME}`, "-n", NS, "--for=phase=Running", "--timeout=180s"]);
    const runningMs = performance.now() - started;
    await settled(MEMBERS[0] ?? "");
    console.log(`3-replica cluster Running after ${Math.round(runningMs)} ms; settled (streaming, lag reported) after ${Math.round(performance.now() - started)} ms`);
    const c = await cluster();
    assert.equal(c.status?.replication?.["postgresql"]?.currentPrimary, MEMBERS[0]);
    const rw = endpoint(c, "ReadWrite");
    const ro = endpoint(c, "ReadOnly");
    assert.equal(rw.name, `${NAME}-postgresql`);
    assert.equal(ro.name, `${NAME}-postgresql-ro`);
    assert.notEqual(rw.port, ro.port);
    uri = await connectionUri(server, NAME, NS);
    assert.equal(new URL(uri).port, String(rw.port), "cluster connect --show-uri uses the read-write endpoint");
    roUri = onPort(uri, ro.port);
    const replicas = await sql(uri, "SELECT string_agg(application_name || ':' || state, ',' ORDER BY application_name) FROM pg_stat_replication");
    assert.equal(replicas, "pg_cluster_postgresql_1:streaming,pg_cluster_postgresql_2:streaming");
    const tls = await sql(uri, "SELECT string_agg(r.application_name || ':' || s.ssl || ':' || s.version, ',' ORDER BY r.application_name) FROM pg_stat_ssl s JOIN pg_stat_replication r USING (pid)");
    assert.equal(tls, "pg_cluster_postgresql_1:true:TLSv1.3,pg_cluster_postgresql_2:true:TLSv1.3", "replication streams over TLS");
    assert.match(uri, /[?&]sslmode=verify-full&sslrootcert=/, "the URI asks for the server's certificate to be verified");
    assert.equal(await sql(uri, "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"), "t", "a client through the endpoint speaks TLS end to end");
    const listed = await server.ok(["cluster", "list-instances", NAME, "-n", NS]);
    assert.match(listed, /NAME\s+ROLE\s+STATUS\s+PORT\s+LAG\s+RESTARTS\s+AGE/);
    assert.match(listed, new RegExp(`${MEMBERS[0]}\\s+primary\\s+Running\\s+\\d+\\s+-\\s`));
    assert.match(listed, new RegExp(`${MEMBERS[1]}\\s+secondary\\s+Running\\s+\\d+\\s+\\d+(\\.\\d)? (B|KiB|MiB)`));
  });

  test("the replication password is kept only in the replicas' 0600 passfiles; the administrator's nowhere", async () => {
    const secret = async (account: string): Promise<string> => {
      const found = await server.api<{ data: { password: string } }>(`/api/v1/namespaces/${NS}/secrets/${NAME}-postgresql-account-${account}`);
      return Buffer.from(found.data.password, "base64").toString();
    };
    const [admin, replicator] = [await secret("postgres"), await secret("kbreplicator")];
    const root = join(server.home, "instances", NS);
    const holding = async (needle: string): Promise<string[]> => {
      const hits: string[] = [];
      for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
        if (!entry.isFile()) continue;
        const path = join(entry.parentPath, entry.name);
        if ((await readFile(path).catch(() => Buffer.alloc(0))).includes(needle)) hits.push(path.slice(root.length + 1));
      }
      return hits.sort();
    };
    assert.deepEqual(await holding(admin), []);
    assert.deepEqual(await holding(replicator), [`${MEMBERS[1]}/run/replication.pgpass`, `${MEMBERS[2]}/run/replication.pgpass`]);
    assert.equal((await stat(join(root, MEMBERS[1] ?? "", "run", "replication.pgpass"))).mode & 0o777, 0o600);
  });

  test("a row written through the read-write endpoint is read through the read-only endpoint", async () => {
    await sql(uri, "CREATE TABLE greetings (id serial PRIMARY KEY, text text NOT NULL)");
    await sql(uri, "INSERT INTO greetings (text) VALUES ('hello through the endpoint')");
    const read = await eventually("the row on a replica", async () => {
      const result = await psql(roUri, "SELECT text FROM greetings");
      return result.code === 0 && result.stdout.trim() === "hello through the endpoint" ? result : undefined;
    }, 10_000);
    assert.equal(read.code, 0);
    const ports = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const [recovery, port] = (await sql(roUri, "SELECT pg_is_in_recovery(), inet_server_port()")).split("|");
      assert.equal(recovery, "t", "the read-only endpoint leads to replicas only");
      ports.add(port ?? "");
    }
    assert.equal(ports.size, 2, "connections are spread over both replicas");
    const refused = await psql(roUri, "INSERT INTO greetings (text) VALUES ('nope')");
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /read-only transaction/);
  });

  test("Switchover to a named candidate (the example) ends Succeed with the roles swapped and the endpoint following", async () => {
    const manifest = await exampleWith("postgresql/switchover-specified-instance.yaml", () => undefined);
    const to = await switchover(manifest, "pg-switchover-specify", MEMBERS[0] ?? "", uri, roUri);
    assert.equal(to, MEMBERS[1]);
  });

  test("Switchover without a candidate (the example, naming the current primary) moves the primary to a replica", async () => {
    const from = (await cluster()).status?.replication?.["postgresql"]?.currentPrimary ?? "";
    const manifest = await exampleWith("postgresql/switchover.yaml", (doc) => (doc["spec"].switchover[0].instanceName = from));
    await switchover(manifest, "pg-switchover", from, uri, roUri);
  });

  test("a Switchover naming an instance that is not the primary fails and changes nothing", async () => {
    const before = (await cluster()).status?.replication?.["postgresql"]?.currentPrimary;
    const replica = MEMBERS.find((m) => m !== before) ?? "";
    const manifest = await exampleWith("postgresql/switchover.yaml", (doc) => {
      doc["metadata"].name = "pg-switchover-wrong";
      doc["spec"].switchover[0].instanceName = replica;
    });
    await server.ok(["apply", "-f", "-"], manifest);
    await server.ok(["wait", "opsrequest/pg-switchover-wrong", "-n", NS, "--for=phase=Failed", "--timeout=60s"]);
    assert.match((await ops("pg-switchover-wrong")).status?.message ?? "", /is not the primary/);
    assert.equal((await cluster()).status?.replication?.["postgresql"]?.currentPrimary, before);
  });

  test("the endpoints keep their ports across a control-plane restart, and clients reconnect", async () => {
    const before = await cluster();
    await server.kill();
    await server.startProcess();
    const after = await eventually("the endpoints answering again", async () => ((await psql(uri, "SELECT 1")).stdout.trim() === "1" ? cluster() : undefined), 60_000);
    assert.deepEqual(after.status?.endpoints?.map((e) => [e.name, e.port]), before.status?.endpoints?.map((e) => [e.name, e.port]));
    assert.equal(await sql(roUri, "SELECT text FROM greetings"), "hello through the endpoint");
  });

  test("kill -9 of the primary's postmaster under writes: a replica takes over, never two primaries, the old primary returns as a replica", async () => {
    await failover(uri, "processes started by this control plane");
  });

  test("the same after a control-plane restart, when the databases are adopted processes", async () => {
    await server.kill();
    await server.startProcess();
    await eventually("the endpoint answering again", async () => ((await psql(uri, "SELECT 1")).stdout.trim() === "1" ? true : undefined), 60_000);
    await failover(uri, "adopted processes");
  });
});
