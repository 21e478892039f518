/**
 * VerticalScaling (issue 14, done-when 2 and 3): the example OpsRequest scales a 3-replica PostgreSQL cluster in
 * synchronous mode under a continuous writer. The rolling restart restarts the replicas, switches over once and then
 * restarts the former primary: the writer sees exactly one change of primary, the longest write gap is printed, and
 * no acknowledged commit is lost. A second scaling (a raise of max_connections) cancelled after its first replica ends
 * Cancelled with the cluster Running, a writer still writing, and every instance back on the old settings: the way
 * back lowers max_connections, which a hot standby needs at least as high as its primary's (ADR 0041's ordering rule;
 * a standby starts with its primary's values when they are higher, and is restarted when its own fit again). Last, a
 * Reconfiguring that lowers max_connections: the primary first, and every replica streaming afterwards.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { stringify } from "yaml";
import type { Cluster, Instance, OpsRequest } from "../../src/api/index.ts";
import { connectionUri, psql, startDemoServer, uriAt } from "../helpers/clients.ts";
import { eventually, type TestServer } from "../helpers/harness.ts";
import { example, exampleWith } from "../helpers/manifests.ts";
import { replicationName } from "../../src/engines/postgresql/index.ts";

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

async function sql(uri: string, text: string): Promise<string> {
  const result = await psql(uri, text);
  assert.equal(result.code, 0, result.stderr);
  return result.stdout.trim();
}

/** Every member ready, one primary as recorded, two streaming replicas, no role change under way. */
async function settled(): Promise<void> {
  await eventually("one primary and two streaming replicas", async () => {
    const record = (await cluster()).status?.replication?.["postgresql"];
    if (record?.currentPrimary === undefined || record.targetPrimary !== record.currentPrimary) return undefined;
    const all = await instances();
    const streaming = all.filter((i) => i.status?.role === "secondary" && i.status.ready === true && i.status.replication?.state === "streaming");
    return all.some((i) => i.metadata.name === record.currentPrimary && i.status?.ready === true) && streaming.length === 2 ? true : undefined;
  }, 240_000).catch(async (error: unknown) => {
    const record = (await cluster()).status?.replication?.["postgresql"];
    const members = (await instances()).map((i) => ({ name: i.metadata.name, role: i.status?.role, ready: i.status?.ready, replication: i.status?.replication, specRole: i.spec.role, phase: i.status?.phase }));
    throw new Error(`${error instanceof Error ? error.message : String(error)}; record ${JSON.stringify(record)}; members ${JSON.stringify(members)}`);
  });
}

/** Inserts rows one after another through the read-write endpoint, a new id per attempt; remembers each acknowledged one and its server. */
class Writer {
  readonly acknowledged: { id: number; at: number; server: string }[] = [];
  /** The last failed attempt's error, for a test that waits for writes in vain. */
  lastError = "";
  #running = true;
  readonly #loop: Promise<void>;

  /** `firstId`: where this writer's ids begin, so that two writers on one table never collide. */
  constructor(uri: string, firstId: number) {
    this.#loop = this.#run(uri, firstId);
  }

  async #run(uri: string, firstId: number): Promise<void> {
    let client: pg.Client | undefined;
    for (let id = firstId; this.#running; id++) {
      try {
        if (client === undefined) {
          client = new pg.Client({ connectionString: uri, connectionTimeoutMillis: 35_000, query_timeout: 30_000 });
          client.on("error", () => undefined);
          await client.connect();
        }
        const result = await client.query<{ server: string }>("INSERT INTO vscale_writes (id) VALUES ($1) RETURNING current_setting('data_directory') AS server", [id]);
        this.acknowledged.push({ id, at: performance.now(), server: result.rows[0]?.server ?? "" });
      } catch (error) {
        this.lastError = error instanceof Error ? error.message : String(error);
        void client?.end().catch(() => undefined);
        client = undefined;
        await sleep(5);
      }
    }
    await client?.end().catch(() => undefined);
  }

  async stop(): Promise<void> {
    this.#running = false;
    await this.#loop;
  }

  /** How many times consecutive acknowledged writes were taken by different servers. */
  primaryChanges(): number {
    return this.acknowledged.filter((a, i) => i > 0 && a.server !== this.acknowledged[i - 1]?.server).length;
  }

  /** The longest time between two consecutive acknowledged writes (ms). */
  longestGap(): number {
    return this.acknowledged.reduce((longest, a, i) => (i === 0 ? 0 : Math.max(longest, a.at - (this.acknowledged[i - 1]?.at ?? a.at))), 0);
  }
}

async function sharedBuffers(uri: string): Promise<string[]> {
  const ports = (await instances()).map((i) => i.spec.port);
  return Promise.all(ports.map((port) => sql(uriAt(uri, "127.0.0.1", port), "SHOW shared_buffers")));
}

async function maxConnections(uri: string): Promise<string[]> {
  const ports = (await instances()).map((i) => i.spec.port);
  return Promise.all(ports.map((port) => sql(uriAt(uri, "127.0.0.1", port), "SHOW max_connections")));
}

/**
 * Every replica streams: pg_stat_replication on the primary lists each by its replication name in state `streaming`,
 * and none has its replay paused (PostgreSQL pauses a standby below its primary's hot-standby settings).
 */
async function everyReplicaStreaming(uri: string): Promise<void> {
  const primaryName = (await cluster()).status?.replication?.["postgresql"]?.currentPrimary;
  const all = await instances();
  const primary = all.find((i) => i.metadata.name === primaryName) ?? assert.fail(`no primary ${primaryName ?? "recorded"}`);
  const replicas = all.filter((i) => i !== primary);
  const expected = replicas.map((i) => `${replicationName(i.metadata.name)}:streaming`).sort().join(",");
  await eventually("pg_stat_replication on the primary lists every replica streaming", async () => {
    const seen = await sql(uriAt(uri, "127.0.0.1", primary.spec.port), "SELECT coalesce(string_agg(application_name || ':' || state, ',' ORDER BY application_name), '') FROM pg_stat_replication");
    return seen === expected ? true : undefined;
  }, 120_000);
  const paused = await Promise.all(replicas.map((i) => sql(uriAt(uri, "127.0.0.1", i.spec.port), "SELECT pg_is_wal_replay_paused()")));
  assert.deepEqual(paused, replicas.map(() => "f"), "no replica's replay paused");
}

/** The node agents' restarts of replicas for their hot-standby settings so far (ReplicaSettings events on instances), for the log. */
async function replicaSettingsRestarts(): Promise<string[]> {
  const list = await server.api<{ items: { reason: string; message: string; involvedObject: { kind: string; name: string } }[] }>(`/api/v1/namespaces/${NS}/events`);
  return list.items.filter((e) => e.reason === "ReplicaSettings" && e.involvedObject.kind === "Instance").map((e) => `${e.involvedObject.name}: ${e.message}`);
}

async function verticalScaling(name: string, memory: string): Promise<string> {
  return exampleWith("postgresql/verticalscale.yaml", (doc) => {
    doc["metadata"].name = name;
    doc["spec"].verticalScaling[0].requests = { cpu: "1", memory };
    doc["spec"].verticalScaling[0].limits = { cpu: "1", memory };
  });
}

describe("VerticalScaling of a synchronous 3-replica PostgreSQL cluster", { timeout: 1_500_000 }, () => {
  let uri = "";

  test("the cluster: 3 replicas, holdfast.io/ha-synchronous: \"1\", 0.5Gi", async () => {
    await server.ok(["apply", "-f", "-"], await exampleWith("postgresql/cluster.yaml", (doc) => {
      doc["metadata"].annotations = { "holdfast.io/ha-synchronous": "1" };
      doc["spec"].componentSpecs[0].replicas = 3;
      doc["spec"].componentSpecs[0].serviceVersion = major;
    }));
    await server.ok(["wait", `cluster/${NAME}`, "-n", NS, "--for=phase=Running", "--timeout=240s"]);
    await settled();
    uri = await connectionUri(server, NAME, NS);
    await sql(uri, "CREATE TABLE vscale_writes (id bigint PRIMARY KEY)");
    assert.deepEqual(await sharedBuffers(uri), ["128MB", "128MB", "128MB"]);
  });

  test("the example (1Gi) under a writer: one switchover, no acknowledged commit lost, shared_buffers 256MB everywhere", async () => {
    const writer = new Writer(uri, 1);
    await eventually("writes acknowledged", () => Promise.resolve(writer.acknowledged.length >= 100 ? true : undefined), 60_000);
    const before = (await cluster()).status?.replication?.["postgresql"]?.currentPrimary;
    const started = performance.now();
    await server.ok(["apply", "-f", "-"], await example("postgresql/verticalscale.yaml"));
    const done = await eventually("the VerticalScaling finished", async () => {
      const o = await ops("pg-verticalscaling");
      return o.status?.phase === "Succeed" || o.status?.phase === "Failed" ? o : undefined;
    }, 600_000);
    const ms = performance.now() - started;
    const status = done.status ?? {};
    assert.equal(status.phase, "Succeed", status.message);
    assert.equal(status.progress, "3/3");
    assert.ok((status.progressDetails ?? []).every((d) => d.status === "Succeed"), JSON.stringify(status.progressDetails));
    await eventually("writes on the new primary", () => Promise.resolve(writer.acknowledged.length > 0 && performance.now() - (writer.acknowledged.at(-1)?.at ?? 0) < 1000 ? true : undefined), 60_000);
    await writer.stop();
    const after = (await cluster()).status?.replication?.["postgresql"];
    assert.notEqual(after?.currentPrimary, before, "the primary moved once, before it was restarted");
    assert.equal(after?.roleChange?.reason, "Switchover");
    const lost = await missing(uri, writer.acknowledged.map((a) => a.id));
    console.log(`VerticalScaling 0.5Gi → 1Gi (noisy machine): ${Math.round(ms)} ms; ${writer.acknowledged.length} commits acknowledged, ${lost.length} lost; primary changes seen by the writer: ${writer.primaryChanges()}; longest write gap ${Math.round(writer.longestGap())} ms`);
    assert.equal(writer.primaryChanges(), 1, "exactly one switchover");
    assert.deepEqual(lost, []);
    assert.deepEqual(await sharedBuffers(uri), ["256MB", "256MB", "256MB"]);
  });

  test("a VerticalScaling cancelled after its first instance ends Cancelled under a writer; every instance back on the old values, every replica streaming", async () => {
    await settled();
    const writer = new Writer(uri, 1_000_000);
    after(() => writer.stop());
    await eventually("writes acknowledged", () => Promise.resolve(writer.acknowledged.length >= 50 ? true : undefined), 60_000).catch((error: unknown) => {
      throw new Error(`${error instanceof Error ? error.message : String(error)}; the writer's last error: ${writer.lastError}`);
    });
    await server.ok(["apply", "-f", "-"], await verticalScaling("pg-vscale-cancel", "2Gi"));
    await eventually("one instance restarted with 2Gi", async () => {
      const o = await ops("pg-vscale-cancel");
      return (o.status?.progressDetails ?? []).some((d) => d.status === "Succeed") ? true : undefined;
    }, 300_000);
    const running = await ops("pg-vscale-cancel");
    assert.equal(running.status?.phase, "Running");
    const started = performance.now();
    await server.ok(["apply", "-f", "-"], stringify({ ...running, metadata: { name: running.metadata.name, namespace: NS }, spec: { ...running.spec, cancel: true }, status: undefined }));
    const done = await eventually("the cancel finished", async () => {
      const o = await ops("pg-vscale-cancel");
      return ["Cancelled", "Failed", "Succeed"].includes(o.status?.phase ?? "") ? o : undefined;
    }, 600_000).catch(async (error: unknown) => {
      const state = { ops: (await ops("pg-vscale-cancel")).status, cluster: (await cluster()).status, instances: (await instances()).map((i) => ({ name: i.metadata.name, spec: i.spec, status: i.status })) };
      console.log(JSON.stringify(state, null, 1));
      throw error;
    });
    const ms = performance.now() - started;
    assert.equal(done.status?.phase, "Cancelled", done.status?.message);
    assert.equal((await cluster()).status?.phase, "Running");
    assert.deepEqual((await cluster()).spec.componentSpecs[0]?.resources?.limits, { cpu: "1", memory: "1Gi" });
    await settled();
    await eventually("writes go on after the cancel", () => Promise.resolve(performance.now() - (writer.acknowledged.at(-1)?.at ?? 0) < 1000 ? true : undefined), 60_000);
    const count = writer.acknowledged.length;
    await eventually("more writes acknowledged", () => Promise.resolve(writer.acknowledged.length >= count + 20 ? true : undefined), 60_000);
    await writer.stop();
    assert.deepEqual(await missing(uri, writer.acknowledged.map((a) => a.id)), [], "no acknowledged commit lost");
    assert.deepEqual(await sharedBuffers(uri), ["256MB", "256MB", "256MB"]);
    // A replica started with its primary's higher value while the primary still ran it is restarted with its own once it fits.
    await eventually("max_connections 112 on every instance", async () => ((await maxConnections(uri)).join(",") === "112,112,112" ? true : undefined), 180_000);
    await settled();
    await everyReplicaStreaming(uri);
    const switchedAtCancel = running.status.progressDetails?.filter((d) => d.status === "Succeed").length ?? 0;
    console.log(`cancel of VerticalScaling 1Gi → 2Gi after ${switchedAtCancel} instance(s) (noisy machine): Cancelled ${Math.round(ms)} ms after the cancel; ${writer.acknowledged.length} commits acknowledged, 0 lost; longest write gap ${Math.round(writer.longestGap())} ms; ${done.status.message ?? ""}; replicas restarted for their settings: ${JSON.stringify(await replicaSettingsRestarts())}`);
  });

  test("a Reconfiguring lowering max_connections (112 → 100) restarts the primary first; every replica streaming afterwards", async () => {
    await settled();
    const writer = new Writer(uri, 2_000_000);
    after(() => writer.stop());
    await eventually("writes acknowledged", () => Promise.resolve(writer.acknowledged.length >= 20 ? true : undefined), 60_000);
    const before = (await cluster()).status?.replication?.["postgresql"]?.currentPrimary;
    const manifest = JSON.stringify({ apiVersion: "operations.kubeblocks.io/v1alpha1", kind: "OpsRequest", metadata: { name: "pg-lower-connections", namespace: NS }, spec: { type: "Reconfiguring", clusterName: NAME, reconfigures: [{ componentName: "postgresql", parameters: [{ key: "max_connections", value: "100" }] }] } });
    const started = performance.now();
    await server.ok(["apply", "-f", "-"], manifest);
    const done = await eventually("the Reconfiguring finished", async () => {
      const o = await ops("pg-lower-connections");
      return ["Succeed", "Failed", "Cancelled"].includes(o.status?.phase ?? "") ? o : undefined;
    }, 600_000);
    const ms = performance.now() - started;
    assert.equal(done.status?.phase, "Succeed", done.status?.message);
    await settled();
    await eventually("max_connections 100 on every instance", async () => ((await maxConnections(uri)).join(",") === "100,100,100" ? true : undefined), 180_000);
    await everyReplicaStreaming(uri);
    const count = writer.acknowledged.length;
    await eventually("more writes acknowledged", () => Promise.resolve(writer.acknowledged.length >= count + 20 ? true : undefined), 60_000);
    await writer.stop();
    assert.equal((await cluster()).status?.replication?.["postgresql"]?.currentPrimary, before, "a lowering restarts the primary in place: no switchover");
    assert.deepEqual(await missing(uri, writer.acknowledged.map((a) => a.id)), [], "no acknowledged commit lost");
    console.log(`Reconfiguring max_connections 112 → 100 on 3 replicas under a writer (noisy machine): Succeed after ${Math.round(ms)} ms; ${writer.acknowledged.length} commits acknowledged, 0 lost; longest write gap ${Math.round(writer.longestGap())} ms; replicas restarted for their settings (all so far): ${JSON.stringify(await replicaSettingsRestarts())}`);
  });
});

/** Every acknowledged id that the server behind `uri` does not have. */
async function missing(uri: string, acknowledged: readonly number[]): Promise<number[]> {
  const stored = new Set((await sql(uri, "SELECT coalesce(string_agg(id::text, ','), '') FROM vscale_writes")).split(",").filter((x) => x !== "").map(Number));
  return acknowledged.filter((id) => !stored.has(id));
}
