/**
 * Synchronous replication, done-when 4: a 3-instance PostgreSQL cluster with `holdfast.io/ha-synchronous: "1"`
 * acknowledges a commit only once a replica has it; a writer records every acknowledged commit, the primary's
 * postmaster is killed (-9), and every recorded commit is on the new primary, over repeated trials. A failover
 * that could lose a commit (too few replicas answer) is not made: the old primary restarts in place.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import type { Cluster, Instance } from "../../src/api/index.ts";
import { connectionUri, psql, startDemoServer } from "../helpers/clients.ts";
import { eventually, type TestServer } from "../helpers/harness.ts";
import { exampleWith } from "../helpers/manifests.ts";

const NS = "demo";
const NAME = "pg-cluster";
const MEMBERS = [0, 1, 2].map((i) => `${NAME}-postgresql-${i}`);
const TRIALS = Number(process.env["SYNCHRONOUS_TRIALS"] ?? 3);

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

async function sql(uri: string, text: string): Promise<string> {
  const result = await psql(uri, text);
  assert.equal(result.code, 0, result.stderr);
  return result.stdout.trim();
}

function onPort(uri: string, port: number): string {
  const url = new URL(uri);
  url.port = String(port);
  return url.toString();
}

/** The quorum list a primary should have: every other member, by replication name. */
function quorumOf(primary: string, quorum: number): string {
  const names = MEMBERS.filter((m) => m !== primary).map((m) => `"${m.replaceAll("-", "_")}"`);
  return `ANY ${quorum} (${names.join(", ")})`;
}

/** The recorded primary, ready, with both replicas streaming to it as quorum members and its quorum list in force. */
async function settled(uri: string, quorum = 1): Promise<Instance> {
  return eventually("one primary, two streaming quorum replicas, the quorum list in force", async () => {
    const record = (await cluster()).status?.replication?.["postgresql"];
    if (record?.currentPrimary === undefined || record.targetPrimary !== record.currentPrimary) return undefined;
    const all = await instances();
    const primary = all.find((i) => i.metadata.name === record.currentPrimary && i.status?.role === "primary" && i.status.ready === true);
    const streaming = all.filter((i) => i.status?.role === "secondary" && i.status.ready === true && i.status.replication?.state === "streaming");
    if (primary === undefined || streaming.length !== 2) return undefined;
    const direct = onPort(uri, primary.spec.port);
    if ((await sql(direct, "SHOW synchronous_standby_names")) !== quorumOf(primary.metadata.name, quorum)) return undefined;
    return (await sql(direct, "SELECT count(*) FROM pg_stat_replication WHERE sync_state = 'quorum'")) === "2" ? primary : undefined;
  }, 180_000);
}

/** Inserts rows one after another through the read-write endpoint with a new id per attempt; remembers every acknowledged one and the server that took it. */
class Writer {
  readonly acknowledged: { id: number; at: number; server: string }[] = [];
  #running = true;
  #loop: Promise<void>;

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
        const result = await client.query<{ server: string }>("INSERT INTO sync_writes (id) VALUES ($1) RETURNING current_setting('data_directory') AS server", [id]);
        this.acknowledged.push({ id, at: performance.now(), server: result.rows[0]?.server ?? "" });
      } catch {
        void client?.end().catch(() => undefined);
        client = undefined;
        await sleep(5);
      }
    }
    await client?.end().catch(() => undefined);
  }

  async stop(): Promise<number[]> {
    this.#running = false;
    await this.#loop;
    return this.acknowledged.map((a) => a.id);
  }
}

/** Every acknowledged id that the server behind `uri` does not have. */
async function missing(uri: string, acknowledged: readonly number[]): Promise<number[]> {
  const stored = new Set((await sql(uri, "SELECT coalesce(string_agg(id::text, ','), '') FROM sync_writes")).split(",").filter((x) => x !== "").map(Number));
  return acknowledged.filter((id) => !stored.has(id));
}

describe("PostgreSQL synchronous replication", { timeout: 1_200_000 }, () => {
  let uri = "";

  test("the example with 3 replicas and holdfast.io/ha-synchronous: \"1\" runs with both replicas as quorum members", async () => {
    await server.ok(["apply", "-f", "-"], await exampleWith("postgresql/cluster.yaml", (doc) => {
      doc["metadata"].annotations = { "holdfast.io/ha-synchronous": "1" };
      doc["spec"].componentSpecs[0].replicas = 3;
      doc["spec"].componentSpecs[0].serviceVersion = major;
    }));
    await server.ok(["wait", `cluster/${NAME}`, "-n", NS, "--for=phase=Running", "--timeout=180s"]);
    uri = await connectionUri(server, NAME, NS);
    const primary = await settled(uri);
    assert.equal(primary.metadata.name, MEMBERS[0]);
    // Every member carries the same list, so a promoted replica waits for its quorum from its first commit on.
    for (const member of await instances()) assert.equal(await sql(onPort(uri, member.spec.port), "SHOW synchronous_standby_names"), quorumOf(MEMBERS[0] ?? "", 1));
    await sql(uri, "CREATE TABLE sync_writes (id bigint PRIMARY KEY)");
  });

  test(`kill -9 of the primary under writes, ${TRIALS} trials: every acknowledged commit is on the new primary`, async () => {
    let nextId = 1;
    const results: string[] = [];
    let totalAcknowledged = 0;
    let totalLost = 0;
    for (let trial = 1; trial <= TRIALS; trial++) {
      const victim = await settled(uri);
      const writer = new Writer(uri, nextId);
      await eventually("writes acknowledged", () => Promise.resolve(writer.acknowledged.length >= 100 ? true : undefined), 30_000);
      const pid = victim.status?.pid;
      assert.ok(pid !== undefined, "the primary runs");
      const killedAt = performance.now();
      process.kill(pid, "SIGKILL");
      const record = await eventually("the failover recorded", async () => {
        const r = (await cluster()).status?.replication?.["postgresql"];
        return r?.roleChange?.reason === "Failover" && r.roleChange.from === victim.metadata.name && r.roleChange.result === "Succeeded" ? r : undefined;
      }, 120_000);
      const resumed = await eventually("a write acknowledged by the new primary", () => Promise.resolve(writer.acknowledged.find((a) => a.at > killedAt && a.server !== victim.status?.dataDirectory)), 60_000);
      await settled(uri);
      const acknowledged = await writer.stop();
      nextId += acknowledged.length + 100_000;
      const lost = await missing(uri, acknowledged);
      totalAcknowledged += acknowledged.length;
      totalLost += lost.length;
      results.push(`trial ${trial}: ${victim.metadata.name} → ${record.currentPrimary ?? "?"}, ${acknowledged.length} acknowledged, ${lost.length} lost, first write on the new primary ${Math.round(resumed.at - killedAt)} ms after the kill`);
      assert.deepEqual(lost, [], `trial ${trial}: acknowledged commits missing on ${record.currentPrimary ?? "?"}`);
    }
    console.log(`synchronous (ANY 1 of 2): ${TRIALS} failovers, ${totalAcknowledged} commits acknowledged, ${totalLost} lost\n  ${results.join("\n  ")}`);
  });

  test("a failover that could lose a commit is not made: with one replica not answering, the killed primary restarts in place", async () => {
    const primary = await settled(uri);
    const silent = (await instances()).find((i) => i.metadata.name !== primary.metadata.name);
    assert.ok(silent?.status?.pid !== undefined);
    const writer = new Writer(uri, 10_000_000);
    await eventually("writes acknowledged", () => Promise.resolve(writer.acknowledged.length >= 50 ? true : undefined), 30_000);
    // A stopped postmaster takes no connections: its probes fail, so it cannot be examined for the quorum.
    process.kill(silent.status.pid, "SIGSTOP");
    try {
      await sleep(500);
      const killedAt = performance.now();
      process.kill(primary.status?.pid ?? 0, "SIGKILL");
      const described = await eventually("restarted in place", async () => {
        const text = await server.ok(["describe", "cluster", NAME, "-n", NS]);
        return /RestartedInPlace/.test(text) ? text : undefined;
      }, 60_000);
      assert.match(described, /synchronous commit/);
      await eventually("writes acknowledged again by the same primary", () => Promise.resolve(writer.acknowledged.find((a) => a.at > killedAt) ? true : undefined), 60_000);
      assert.equal((await cluster()).status?.replication?.["postgresql"]?.currentPrimary, primary.metadata.name, "no replica was promoted");
    } finally {
      process.kill(silent.status.pid, "SIGCONT");
    }
    await settled(uri);
    const acknowledged = await writer.stop();
    assert.deepEqual(await missing(uri, acknowledged), []);
    console.log(`blocked failover: ${primary.metadata.name} restarted in place, ${acknowledged.length} acknowledged, none lost`);
  });

  test("the quorum follows the annotation: a quorum above the replicas waits for all (with a warning); \"0\" turns it off", async () => {
    const annotate = async (value: string): Promise<void> => {
      await server.ok(["apply", "-f", "-"], await exampleWith("postgresql/cluster.yaml", (doc) => {
        doc["metadata"].annotations = { "holdfast.io/ha-synchronous": value };
        doc["spec"].componentSpecs[0].replicas = 3;
        doc["spec"].componentSpecs[0].serviceVersion = major;
      }));
    };
    await annotate("5");
    await settled(uri, 2);
    assert.match(await server.ok(["describe", "cluster", NAME, "-n", NS]), /asks for a quorum of 5, but there are only 2 replicas/);
    await annotate("0");
    const primary = await eventually("asynchronous again", async () => {
      const current = (await cluster()).status?.replication?.["postgresql"]?.currentPrimary;
      const found = (await instances()).find((i) => i.metadata.name === current);
      return found !== undefined && (await sql(onPort(uri, found.spec.port), "SHOW synchronous_standby_names")) === "" ? found : undefined;
    }, 30_000);
    assert.equal(await sql(onPort(uri, primary.spec.port), "SELECT count(*) FROM pg_stat_replication WHERE sync_state = 'async'"), "2");
  });
});
