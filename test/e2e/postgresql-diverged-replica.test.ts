/**
 * A replica ahead of the primary a failover chose (asynchronous replication): it received WAL the new primary never
 * had, so it cannot follow the new timeline by being repointed. Its node agent sees that it does not stream, rewinds
 * it onto the new primary's timeline (pg_rewind) and starts it again as a streaming replica holding exactly the new
 * primary's data.
 *
 * The test makes that state on purpose: replica B's WAL receiver is stopped (SIGSTOP) while the primary writes, so
 * only replica A has the rows; A is then hung (SIGSTOP of its postmaster) and the primary killed, so the failover
 * can only choose B; A resumed is ahead of B's fork point.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import type { Cluster, ComponentReplicationStatus, Instance } from "../../src/api/index.ts";
import { connectionUri, psql, startDemoServer } from "../helpers/clients.ts";
import { eventually, type TestServer } from "../helpers/harness.ts";
import { exampleWith } from "../helpers/manifests.ts";
import { onPort } from "../helpers/primary-watcher.ts";

const NS = "demo";
const NAME = "pg-diverge";
const COMPONENT = "postgresql";
const MEMBERS = [0, 1, 2].map((i) => `${NAME}-${COMPONENT}-${i}`);
const SETTLE_MS = 240_000;
/** Enough WAL (about 30 MB) that what the stopped receiver's socket buffers hold is not all of it. */
const ROWS = 500_000;

let server: TestServer;
let major: string;
let uri = "";

before(async () => {
  ({ server, major } = await startDemoServer());
});

after(async () => {
  await server.destroy();
});

async function record(): Promise<ComponentReplicationStatus | undefined> {
  return (await server.api<Cluster>(`/apis/apps.kubeblocks.io/v1/namespaces/${NS}/clusters/${NAME}`)).status?.replication?.[COMPONENT];
}

async function instances(): Promise<Instance[]> {
  return Promise.all(MEMBERS.map((name) => server.api<Instance>(`/apis/holdfast.io/v1alpha1/namespaces/${NS}/instances/${name}`)));
}

async function sql(target: string, text: string): Promise<string> {
  const result = await psql(target, text);
  assert.equal(result.code, 0, result.stderr);
  return result.stdout.trim();
}

/** The child of `postmaster` whose title names `role` (e.g. "walreceiver"). */
async function childProcess(postmaster: number, role: string): Promise<number | undefined> {
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, "utf8").catch(() => "");
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    if (ppid !== postmaster) continue;
    const title = await readFile(`/proc/${entry}/cmdline`, "utf8").catch(() => "");
    if (title.includes(role)) return Number(entry);
  }
  return undefined;
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // already gone
  }
}

/** The recorded primary running as such and both others streaming from it, with no role change under way. */
async function settled(): Promise<{ primary: Instance; replicas: Instance[] }> {
  return eventually("one primary and two streaming replicas", async () => {
    const r = await record();
    if (r?.currentPrimary === undefined || r.targetPrimary !== r.currentPrimary || r.roleChange?.result === "InProgress") return undefined;
    const all = await instances();
    const primary = all.find((i) => i.metadata.name === r.currentPrimary && i.status?.role === "primary" && i.status.ready === true);
    const replicas = all.filter((i) => i.status?.role === "secondary" && i.status.ready === true && i.status.replication?.state === "streaming");
    if (primary === undefined || replicas.length !== 2) return undefined;
    if ((await sql(onPort(uri, primary.spec.port), "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'")) !== "2") return undefined;
    return { primary, replicas };
  }, SETTLE_MS);
}

describe("a replica ahead of the new primary", { timeout: 900_000 }, () => {
  test("the 3-replica example reaches Running, asynchronous", async () => {
    await server.ok(["apply", "-f", "-"], await exampleWith("postgresql/cluster.yaml", (doc) => {
      doc["metadata"].name = NAME;
      doc["spec"].componentSpecs[0].replicas = 3;
      doc["spec"].componentSpecs[0].serviceVersion = major;
    }));
    await server.ok(["wait", `cluster/${NAME}`, "-n", NS, "--for=phase=Running", "--timeout=240s"]);
    uri = await connectionUri(server, NAME, NS);
    await settled();
    await sql(uri, "CREATE TABLE diverge (id int PRIMARY KEY)");
  });

  test("is rewound onto the new primary's timeline and streams from it, holding exactly its rows", async () => {
    const { primary, replicas } = await settled();
    const [ahead, behind] = replicas as [Instance, Instance];
    await eventually("the table on both replicas", async () => {
      for (const r of replicas) if ((await sql(onPort(uri, r.spec.port), "SELECT to_regclass('diverge') IS NOT NULL")) !== "t") return undefined;
      return true;
    }, 30_000);
    const receiver = await childProcess(behind.status?.pid ?? 0, "walreceiver");
    assert.ok(receiver !== undefined, `the WAL receiver of ${behind.metadata.name}`);
    const aheadPid = ahead.status?.pid ?? 0;
    signal(receiver, "SIGSTOP");
    try {
      await sql(onPort(uri, primary.spec.port), `INSERT INTO diverge SELECT g FROM generate_series(1, ${ROWS}) g`);
      await eventually(`${ahead.metadata.name} has the rows`, async () => ((await sql(onPort(uri, ahead.spec.port), "SELECT count(*) FROM diverge")) === String(ROWS) ? true : undefined), 30_000);
      // A hangs: the failover cannot ask it; the primary dies; B, the only replica that answers, is promoted.
      signal(aheadPid, "SIGSTOP");
      signal(primary.status?.pid ?? 0, "SIGKILL");
    } finally {
      signal(receiver, "SIGCONT");
    }
    try {
      const change = await eventually("the failover to the replica that is behind", async () => {
        const r = await record();
        return r?.roleChange?.from === primary.metadata.name && r.roleChange.result !== "InProgress" ? r : undefined;
      }, SETTLE_MS);
      assert.equal(change.roleChange?.result, "Succeeded", change.roleChange?.message);
      assert.equal(change.currentPrimary, behind.metadata.name, "the replica that answered was promoted");
    } finally {
      signal(aheadPid, "SIGCONT");
    }
    const after = await settled();
    assert.equal(after.primary.metadata.name, behind.metadata.name);
    const newPrimaryRows = await sql(onPort(uri, behind.spec.port), "SELECT count(*) FROM diverge");
    assert.notEqual(newPrimaryRows, String(ROWS), "the new primary never had the rows only the other replica received");
    await sql(uri, "INSERT INTO diverge VALUES (5000)");
    const rewound = (await instances()).find((i) => i.metadata.name === ahead.metadata.name);
    assert.ok(rewound !== undefined);
    await eventually(`${ahead.metadata.name} holds exactly the new primary's rows`, async () => {
      const rows = await sql(onPort(uri, rewound.spec.port), "SELECT count(*) || ',' || coalesce(max(id), 0) FROM diverge").catch(() => "");
      return rows === `${Number(newPrimaryRows) + 1},5000` ? true : undefined;
    }, 60_000);
  });
});
