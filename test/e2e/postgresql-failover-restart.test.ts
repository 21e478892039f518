/**
 * Failover across a control-plane crash, and a hung primary (ADR 0007, failure cases): a 3-instance PostgreSQL
 * cluster loses its primary (kill -9 of the postmaster) under a writer on the read-write endpoint, and the control
 * plane is SIGKILLed inside the role change, once the target is recorded and once the candidate is promoted. After
 * the restart the change completes, never two instances accept writes, the old primary rejoins as a replica, the
 * endpoint follows, and (synchronous mode) no acknowledged write is lost. A primary that hangs (SIGSTOP) is
 * failed over after its probes time out and, resumed, does not come back accepting writes.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import type { Cluster, ComponentReplicationStatus, Instance } from "../../src/api/index.ts";
import { connectionUri, psql, startDemoServer } from "../helpers/clients.ts";
import { eventually, type TestServer } from "../helpers/harness.ts";
import { exampleWith } from "../helpers/manifests.ts";
import { acceptsWrites, onPort, startPrimaryWatcher } from "../helpers/primary-watcher.ts";

const NS = "demo";
const NAME = "pg-cluster";
const COMPONENT = "postgresql";
const MEMBERS = [0, 1, 2].map((i) => `${NAME}-${COMPONENT}-${i}`);
/** Trials per kill point and durability mode (each is a failover, a control-plane crash and a restart). */
const TRIALS = Number(process.env["FAILOVER_RESTART_TRIALS"] ?? 2);
/** Generous: the whole suite may share two cores with this test. */
const SETTLE_MS = 240_000;

type KillPoint = "target recorded" | "promoted";

let server: TestServer;
let major: string;
let uri = "";
let nextId = 1;

before(async () => {
  ({ server, major } = await startDemoServer());
});

after(async () => {
  await server.destroy();
});

async function cluster(): Promise<Cluster> {
  return server.api<Cluster>(`/apis/apps.kubeblocks.io/v1/namespaces/${NS}/clusters/${NAME}`);
}

async function record(): Promise<ComponentReplicationStatus | undefined> {
  return (await cluster()).status?.replication?.[COMPONENT];
}

async function instances(): Promise<Instance[]> {
  return Promise.all(MEMBERS.map((name) => server.api<Instance>(`/apis/holdfast.io/v1alpha1/namespaces/${NS}/instances/${name}`)));
}

async function sql(target: string, text: string): Promise<string> {
  const result = await psql(target, text);
  assert.equal(result.code, 0, result.stderr);
  return result.stdout.trim();
}

async function applyCluster(synchronous: string | undefined): Promise<void> {
  await server.ok(["apply", "-f", "-"], await exampleWith("postgresql/cluster.yaml", (doc) => {
    if (synchronous !== undefined) doc["metadata"].annotations = { "holdfast.io/ha-synchronous": synchronous };
    doc["spec"].componentSpecs[0].replicas = 3;
    doc["spec"].componentSpecs[0].serviceVersion = major;
  }));
}

/** No role change under way; the recorded primary ready as such, the two others ready replicas streaming from it (with the quorum list in force when synchronous). */
async function settled(synchronous: boolean): Promise<Instance> {
  return eventually("one primary and two streaming replicas, no role change under way", async () => {
    const r = await record();
    if (r?.currentPrimary === undefined || r.targetPrimary !== r.currentPrimary || r.roleChange?.result === "InProgress") return undefined;
    const all = await instances();
    const primary = all.find((i) => i.metadata.name === r.currentPrimary && i.status?.role === "primary" && i.status.ready === true && i.status.pid !== undefined);
    const streaming = all.filter((i) => i.status?.role === "secondary" && i.status.ready === true && i.status.replication?.state === "streaming");
    if (primary === undefined || streaming.length !== 2) return undefined;
    const direct = onPort(uri, primary.spec.port);
    if ((await sql(direct, "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'")) !== "2") return undefined;
    const quorum = await sql(direct, "SHOW synchronous_standby_names");
    return synchronous === quorum.startsWith("ANY 1") ? primary : undefined;
  }, SETTLE_MS);
}

/** Inserts rows one after another with a new id per attempt, remembering every acknowledged one and the port of the server that took it. */
class Writer {
  readonly acknowledged: { id: number; at: number; port: number }[] = [];
  #running = true;
  readonly #loop: Promise<void>;

  constructor(target: string) {
    this.#loop = this.#run(target);
  }

  async #run(target: string): Promise<void> {
    let client: pg.Client | undefined;
    while (this.#running) {
      const id = nextId++;
      try {
        if (client === undefined) {
          client = new pg.Client({ connectionString: target, connectionTimeoutMillis: 35_000, query_timeout: 30_000 });
          client.on("error", () => undefined);
          await client.connect();
        }
        const result = await client.query<{ port: number }>("INSERT INTO failover_writes (id) VALUES ($1) RETURNING inet_server_port() AS port", [id]);
        this.acknowledged.push({ id, at: performance.now(), port: result.rows[0]?.port ?? 0 });
      } catch {
        void client?.end().catch(() => undefined);
        client = undefined;
        await sleep(20);
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

/** Every acknowledged id the primary behind the read-write endpoint does not have. */
async function missing(acknowledged: readonly number[]): Promise<number[]> {
  const stored = new Set((await sql(uri, "SELECT coalesce(string_agg(id::text, ','), '') FROM failover_writes")).split(",").filter((x) => x !== "").map(Number));
  return acknowledged.filter((id) => !stored.has(id));
}

interface EventItem { type: string; reason: string; message: string; lastTimestamp: string; involvedObject: { name: string } }

/** The namespace's events since `since` (ISO time), oldest first, one line each: what the controllers did in a trial. */
async function eventsSince(since: string): Promise<string[]> {
  const { items } = await server.api<{ items: EventItem[] }>(`/api/v1/namespaces/${NS}/events`);
  const start = Date.parse(since);
  return items
    .filter((e) => e.lastTimestamp >= since)
    .sort((a, b) => a.lastTimestamp.localeCompare(b.lastTimestamp))
    .map((e) => `+${Date.parse(e.lastTimestamp) - start} ms ${e.involvedObject.name} ${e.reason}: ${e.message.slice(0, 300)}`);
}

/** The writer's acknowledged writes missing on the primary behind the endpoint, and a phrase saying how many and when they were acknowledged. */
async function lostWrites(writer: Writer, beforeKill: number, killedAt: number): Promise<{ lost: number[]; text: string }> {
  const acknowledged = writer.acknowledged.map((a) => a.id);
  const lost = await missing(acknowledged);
  const at = writer.acknowledged.filter((a) => lost.includes(a.id)).map((a) => Math.round(a.at - killedAt));
  const when = at.length === 0 ? "" : ` (acknowledged ${Math.min(...at)} to ${Math.max(...at)} ms after kill -9)`;
  return { lost, text: `${acknowledged.length} writes acknowledged (${beforeKill} before the control plane's kill), ${lost.length} lost${when}` };
}

/** One open session per replica: asking pg_is_in_recovery() over it takes a millisecond, so a promotion is seen at once. */
class ReplicaSessions {
  readonly #clients = new Map<string, pg.Client>();

  static async open(replicas: readonly Instance[]): Promise<ReplicaSessions> {
    const sessions = new ReplicaSessions();
    for (const replica of replicas) {
      const client = new pg.Client({ connectionString: onPort(uri, replica.spec.port), connectionTimeoutMillis: 10_000, query_timeout: 5000 });
      client.on("error", () => undefined);
      await client.connect();
      sessions.#clients.set(replica.metadata.name, client);
    }
    return sessions;
  }

  /** The replica that has left recovery, if one has. */
  async promoted(): Promise<string | undefined> {
    for (const [name, client] of this.#clients) {
      const row = (await client.query<{ r: boolean }>("SELECT pg_is_in_recovery() AS r").catch(() => ({ rows: [] }))).rows[0];
      if (row?.r === false) return name;
    }
    return undefined;
  }

  async close(): Promise<void> {
    await Promise.all([...this.#clients.values()].map((c) => c.end().catch(() => undefined)));
  }
}

/** The component's record as the killed control plane left it in its store (nothing can change it while it is down). */
function storedRecord(): ComponentReplicationStatus | undefined {
  const db = new DatabaseSync(join(server.home, "store.db"), { readOnly: true });
  try {
    const row = db.prepare("SELECT object FROM objects WHERE kind = 'Cluster' AND namespace = ? AND name = ?").get(NS, NAME) as { object: string } | undefined;
    return row === undefined ? undefined : (JSON.parse(row.object) as Cluster).status?.replication?.[COMPONENT];
  } finally {
    db.close();
  }
}

/** Poll until the failover of `victim` reaches `point`, then SIGKILL the control plane at once. */
async function killControlPlaneAt(point: KillPoint, victim: string, sessions: ReplicaSessions): Promise<void> {
  const deadline = Date.now() + 120_000;
  const reached = point === "target recorded" ? () => targetRecorded(victim) : async () => (await sessions.promoted()) !== undefined;
  while (!(await reached())) {
    assert.ok(Date.now() < deadline, `the failover of ${victim} did not reach "${point}"`);
    await sleep(2);
  }
  await server.kill();
}

/** Is a failover of `victim` recorded (or already over: the landing then says the kill came too late)? */
async function targetRecorded(victim: string): Promise<boolean> {
  const r = await record().catch(() => undefined);
  return r?.roleChange?.from === victim && (r.roleChange.result !== "InProgress" || r.targetPrimary !== r.currentPrimary);
}

/** Where the kill landed, from the record the dead control plane left and the replicas' roles at the kill and 3 s later. */
async function landing(victim: string, sessions: ReplicaSessions): Promise<string> {
  const promotedAtKill = await sessions.promoted();
  const r = storedRecord();
  await sleep(3000);
  const promotedLater = await sessions.promoted();
  if (r?.roleChange?.from !== victim) return "before the target was recorded";
  if (r.roleChange.result !== "InProgress") return `after the change was recorded ${r.roleChange.result}`;
  if (promotedAtKill !== undefined) return `after ${promotedAtKill}'s promotion, before it was recorded`;
  if (promotedLater !== undefined) return `during ${promotedLater}'s promotion (pg_ctl promote under way)`;
  return `target ${r.targetPrimary ?? "?"} recorded, before its promotion`;
}

/**
 * kill -9 of the primary under a writer on the read-write endpoint, SIGKILL of the control plane at `point`, restart:
 * the failover completes, at most one primary answers in every sample, the old primary streams again as a replica,
 * the endpoint leads to the new primary. Returns a line for the report; asserts no lost write when `synchronous`.
 */
async function trial(point: KillPoint, synchronous: boolean, label: string): Promise<string> {
  const victim = await settled(synchronous);
  const all = await instances();
  const sessions = await ReplicaSessions.open(all.filter((i) => i.metadata.name !== victim.metadata.name));
  const watcher = startPrimaryWatcher(uri, all.map((i) => i.spec.port));
  const writer = new Writer(uri);
  let down = false;
  try {
    await eventually("writes acknowledged", () => Promise.resolve(writer.acknowledged.length >= 50 ? true : undefined), 60_000);
    const killedAt = performance.now();
    const killedIso = new Date().toISOString();
    process.kill(victim.status?.pid ?? 0, "SIGKILL");
    await killControlPlaneAt(point, victim.metadata.name, sessions);
    down = true;
    const serverKilledMs = performance.now() - killedAt;
    const acknowledgedBeforeKill = writer.acknowledged.length;
    const landed = await landing(victim.metadata.name, sessions);
    await server.startProcess();
    down = false;
    const done = await eventually("the failover completed after the restart", async () => {
      const r = await record();
      return r?.roleChange?.from === victim.metadata.name && r.roleChange.result !== "InProgress" && r.targetPrimary === r.currentPrimary ? r : undefined;
    }, SETTLE_MS);
    const completedMs = performance.now() - killedAt;
    assert.equal(done.roleChange?.result, "Succeeded", done.roleChange?.message);
    const to = done.currentPrimary ?? "";
    assert.ok(to !== "" && to !== victim.metadata.name, `a replica is primary (${to})`);
    const primary = await settled(synchronous);
    assert.equal(primary.metadata.name, to);
    const rejoinedMs = performance.now() - killedAt;
    assert.equal((await instances()).find((i) => i.metadata.name === victim.metadata.name)?.status?.role, "secondary", "the old primary is a replica");
    assert.equal(await sql(uri, "SELECT inet_server_port()"), String(primary.spec.port), "the read-write endpoint leads to the new primary");
    await eventually("a write acknowledged by the new primary", () => Promise.resolve(writer.acknowledged.find((a) => a.port === primary.spec.port) ? true : undefined), 60_000);
    await writer.stop();
    const watched = await watcher.stop();
    const { lost, text: losses } = await lostWrites(writer, acknowledgedBeforeKill, killedAt);
    assert.equal(watched.mostPrimaries, 1, `never more than one primary in ${watched.samples} samples`);
    if (synchronous) assert.deepEqual(lost, [], "every acknowledged write is on the new primary");
    // A slow settling is worth explaining: the controllers' events of the trial go with it.
    const slow = rejoinedMs > 20_000 ? `\n    ${(await eventsSince(killedIso)).join("\n    ")}` : "";
    return `${label}: ${victim.metadata.name} → ${to}; control plane killed ${Math.round(serverKilledMs)} ms after kill -9, landed ${landed}; Succeeded ${(completedMs / 1000).toFixed(1)} s after kill -9, old primary streaming after ${(rejoinedMs / 1000).toFixed(1)} s; ${losses}; ${watched.samples} samples, at most ${watched.mostPrimaries} primary${slow}`;
  } finally {
    await writer.stop();
    await watcher.stop();
    await sessions.close();
    if (down) await server.startProcess();
  }
}

/** SIGCONT, where the process still exists (a fence may have killed it meanwhile). */
function resume(pid: number): void {
  try {
    process.kill(pid, "SIGCONT");
  } catch {
    // already gone
  }
}

/** A process that no longer exists (or is a zombie) counts as gone. */
async function alive(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
  return !/\)\s+Z/.test(stat.slice(stat.lastIndexOf(")")));
}

describe("PostgreSQL failover across control-plane restarts, and a hung primary", { timeout: 3_600_000 }, () => {
  const report: string[] = [];

  after(() => console.log(`failover with control-plane restarts:\n  ${report.join("\n  ")}`));

  test("the example with 3 replicas reaches Running with one primary and two streaming replicas", async () => {
    await applyCluster(undefined);
    await server.ok(["wait", `cluster/${NAME}`, "-n", NS, "--for=phase=Running", "--timeout=240s"]);
    uri = await connectionUri(server, NAME, NS);
    assert.equal((await settled(false)).metadata.name, MEMBERS[0]);
    await sql(uri, "CREATE TABLE failover_writes (id bigint PRIMARY KEY)");
  });

  for (const point of ["target recorded", "promoted"] as const) {
    test(`asynchronous: the control plane killed once the failover's ${point === "promoted" ? "candidate is promoted" : "target is recorded"}, ${TRIALS} trials`, async () => {
      for (let i = 1; i <= TRIALS; i++) report.push(await trial(point, false, `async, kill at ${point}, trial ${i}`));
    });
  }

  test("synchronous (holdfast.io/ha-synchronous: \"1\"): the same kills lose no acknowledged write", async () => {
    await applyCluster("1");
    for (let i = 1; i <= TRIALS; i++) {
      for (const point of ["target recorded", "promoted"] as const) report.push(await trial(point, true, `sync, kill at ${point}, trial ${i}`));
    }
  });

  test("a hung primary (SIGSTOP): failed over after its probes time out, fenced, and not accepting writes once resumed", async () => {
    const victim = await settled(true);
    const pid = victim.status?.pid ?? 0;
    // Past its start grace (30 s), so the failure threshold alone decides.
    await sleep(Math.max(0, Date.parse(victim.status?.startedAt ?? "") + 31_000 - Date.now()));
    const all = await instances();
    const watcher = startPrimaryWatcher(uri, all.map((i) => i.spec.port));
    const viaEndpoint = new Writer(uri);
    // A client connected straight to the primary: its backend outlives a stopped postmaster, so only a fence ends it.
    const direct = new Writer(onPort(uri, victim.spec.port));
    await eventually("writes acknowledged", () => Promise.resolve(viaEndpoint.acknowledged.length >= 20 && direct.acknowledged.length >= 20 ? true : undefined), 60_000);
    const stoppedAt = Date.now();
    process.kill(pid, "SIGSTOP");
    try {
      const change = await eventually("the hung primary failed over", async () => {
        const r = await record();
        return r?.roleChange?.from === victim.metadata.name && r.roleChange.result !== "InProgress" ? { ...r.roleChange, currentPrimary: r.currentPrimary } : undefined;
      }, SETTLE_MS);
      assert.equal(change.result, "Succeeded", change.message);
      assert.notEqual(change.currentPrimary, victim.metadata.name);
      const detectedMs = Date.parse(change.startedAt) - stoppedAt;
      const changeMs = Date.parse(change.finishedAt ?? "") - Date.parse(change.startedAt);
      // A stopped postmaster acts on no shutdown request: the fence kills it rather than wait for the instance controller's stop timeout (30 s).
      assert.ok(changeMs < 20_000, `the fence of a suspended postmaster took ${changeMs} ms`);
      const resumedAt = performance.now();
      resume(pid);
      await eventually("the resumed old postmaster gone", async () => ((await alive(pid)) ? undefined : true), 60_000);
      const goneMs = performance.now() - resumedAt;
      assert.equal(await acceptsWrites(uri, victim.spec.port), false, "the old primary's port does not accept writes");
      const primary = await settled(true);
      assert.equal((await instances()).find((i) => i.metadata.name === victim.metadata.name)?.status?.role, "secondary", "the old primary rejoined as a replica");
      const acknowledged = [...(await viaEndpoint.stop()), ...(await direct.stop())];
      const watched = await watcher.stop();
      assert.equal(watched.mostPrimaries, 1, `never more than one primary in ${watched.samples} samples`);
      assert.deepEqual(await missing(acknowledged), [], "every write acknowledged by either server is on the new primary");
      report.push(`hung primary ${victim.metadata.name} (SIGSTOP) → ${primary.metadata.name}: failover started ${(detectedMs / 1000).toFixed(1)} s after the stop, Succeeded ${(changeMs / 1000).toFixed(1)} s later; its postmaster gone ${Math.round(goneMs)} ms after SIGCONT; ${acknowledged.length} writes acknowledged (${direct.acknowledged.length} straight to the old primary), none lost; ${watched.samples} samples, at most ${watched.mostPrimaries} primary; ${change.message ?? ""}`);
    } finally {
      resume(pid);
      await viaEndpoint.stop();
      await direct.stop();
      await watcher.stop();
    }
  });
});
