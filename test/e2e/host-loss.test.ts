/**
 * A node lost at once, on one machine (ADR 0029; the same on a lab of hosts is the multihost suite's): three nodes on
 * one etcd, a 3-replica PostgreSQL cluster with one instance on each. Every process of the primary's node is killed
 * at once (its server with its node agent, its database); no agent is left to confirm anything, so the failover
 * waits for the primary lease to expire and then promotes a replica on another node. A client writing through the
 * read-write endpoint of a surviving node resumes; no two servers ever answer as primary; nothing acknowledged is
 * lost; the node's return makes its old primary a replica.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import type { Cluster, Instance } from "../../src/api/index.ts";
import { connectionUri, installedPostgresMajor } from "../helpers/clients.ts";
import { etcdMissing, startEtcd, type TestEtcd } from "../helpers/etcd.ts";
import { PgWriter } from "../helpers/pg-writer.ts";
import { eventually, processesInside, TestServer } from "../helpers/harness.ts";
import { exampleWith } from "../helpers/manifests.ts";

const skip = etcdMissing();
const NS = "demo";
const NAME = "pg-cluster";
const LEASE_SECONDS = 2;
const ADDRESSES = { h1: "127.0.40.1", h2: "127.0.40.2", h3: "127.0.40.3" } as const;
type NodeName = keyof typeof ADDRESSES;

const nodes = new Map<NodeName, TestServer>();

function node(name: string | undefined): TestServer {
  const found = nodes.get(name as NodeName);
  if (found === undefined) throw new Error(`no node ${name}`);
  return found;
}

async function members(via: TestServer): Promise<Instance[]> {
  const list = await via.api<{ items: Instance[] }>(`/apis/holdfast.io/v1alpha1/namespaces/${NS}/instances`);
  return list.items.filter((i) => i.spec.clusterName === NAME).sort((a, b) => a.spec.ordinal - b.spec.ordinal);
}

async function currentPrimary(via: TestServer): Promise<string | undefined> {
  const cluster = await via.api<Cluster>(`/apis/apps.kubeblocks.io/v1/namespaces/${NS}/clusters/${NAME}`);
  return cluster.status?.replication?.["postgresql"]?.currentPrimary;
}

/** `uri` pointed at `host:port` (an instance, or a node's endpoint). */
function at(uri: string, host: string, port: number): string {
  const url = new URL(uri);
  url.hostname = host;
  url.port = String(port);
  return url.toString();
}

/** Asks each instance every 100 ms whether it runs as primary; remembers any moment two did. */
class PrimarySampler {
  samples = 0;
  readonly doubles: string[] = [];
  #running = true;
  readonly #loop: Promise<void>;

  constructor(uris: string[]) {
    this.#loop = this.#run(uris);
  }

  async #run(uris: string[]): Promise<void> {
    while (this.#running) {
      const started = performance.now();
      const answers = await Promise.all(uris.map((uri) => isPrimary(uri)));
      this.samples++;
      const primaries = uris.filter((_, i) => answers[i] === true);
      if (primaries.length > 1) this.doubles.push(primaries.join(", "));
      await sleep(Math.max(0, 100 - (performance.now() - started)));
    }
  }

  async stop(): Promise<void> {
    this.#running = false;
    await this.#loop;
  }
}

async function isPrimary(uri: string): Promise<boolean | undefined> {
  const client = new pg.Client({ connectionString: uri, connectionTimeoutMillis: 300, query_timeout: 300 });
  client.on("error", () => undefined);
  try {
    await client.connect();
    return (await client.query<{ recovery: boolean }>("SELECT pg_is_in_recovery() AS recovery")).rows[0]?.recovery === false;
  } catch {
    return undefined;
  } finally {
    void client.end().catch(() => undefined);
  }
}

describe("a node lost at once", { skip, timeout: 900_000 }, () => {
  let etcd: TestEtcd | undefined;
  let uri = "";

  before(async () => {
    etcd = await startEtcd({ members: 1 });
    const first = await TestServer.start({ initArgs: ["--store", etcd.url, "--node-name", "h1", "--advertise", ADDRESSES.h1], listenHost: ADDRESSES.h1 });
    nodes.set("h1", first);
    const session = await first.token();
    for (const name of ["h2", "h3"] as const) {
      const words = (await first.ok(["node", "join-command", "--ttl", "10m"])).trim().split(/\s+/);
      const joined = await TestServer.join([...words.slice(2), "--node-name", name, "--advertise", ADDRESSES[name]], { listenHost: ADDRESSES[name] });
      nodes.set(name, joined);
      await joined.startProcess();
      joined.session = session;
    }
    await first.ok(["create", "namespace", NS]);
    const major = await installedPostgresMajor();
    await first.ok(["apply", "-f", "-"], await exampleWith("postgresql/cluster.yaml", (doc) => {
      doc["metadata"].annotations = { "holdfast.io/ha-lease-seconds": String(LEASE_SECONDS) };
      doc["spec"].componentSpecs[0].replicas = 3;
      doc["spec"].componentSpecs[0].serviceVersion = major;
    }));
    await first.ok(["wait", `cluster/${NAME}`, "-n", NS, "--for=phase=Running", "--timeout=300s"]);
    uri = await connectionUri(first, NAME, NS);
  });

  after(async () => {
    for (const server of nodes.values()) await server.destroy();
    await etcd?.destroy();
  });

  test("kill every process of the primary's node: a replica elsewhere takes over after the lease, never two primaries, nothing lost, the node's return rejoins it", async () => {
    const h1 = node("h1");
    const placed = await eventually("one instance on each node, two streaming replicas", async () => {
      const all = await members(h1);
      const streaming = all.filter((i) => i.status?.role === "secondary" && i.status.replication?.state === "streaming");
      return new Set(all.map((i) => i.spec.nodeName)).size === 3 && streaming.length === 2 ? all : undefined;
    }, 180_000);
    const primaryName = await currentPrimary(h1);
    const primary = placed.find((i) => i.metadata.name === primaryName) ?? assert.fail("the primary is one of them");
    const lostNode = primary.spec.nodeName ?? assert.fail("bound to a node");
    const survivor = (Object.keys(ADDRESSES) as NodeName[]).find((n) => n !== lostNode) ?? assert.fail("another node");
    const endpoint = new URL(uri);
    const setup = new pg.Client({ connectionString: at(uri, ADDRESSES[survivor], Number(endpoint.port)) });
    await setup.connect();
    await setup.query("CREATE TABLE IF NOT EXISTS loss_writes (id bigint PRIMARY KEY)");
    await setup.end();
    const writer = new PgWriter(at(uri, ADDRESSES[survivor], Number(endpoint.port)), "loss_writes");
    const sampler = new PrimarySampler(placed.map((i) => at(uri, i.status?.host ?? "127.0.0.1", i.spec.port)));
    try {
      await loseAndReturn({ writer, sampler, primary, lostNode, survivor, port: Number(endpoint.port) });
    } finally {
      await sampler.stop();
      await writer.stop();
    }
  });

  async function loseAndReturn(o: { writer: PgWriter; sampler: PrimarySampler; primary: Instance; lostNode: string; survivor: NodeName; port: number }): Promise<void> {
    const { writer, sampler, primary, lostNode, survivor } = o;
    await eventually("writes acknowledged", () => Promise.resolve(writer.acknowledged.length > 50 ? true : undefined), 30_000);
    const killedServer = writer.acknowledged.at(-1)?.server;

    const lost = node(lostNode);
    const killedAt = performance.now();
    await lost.kill();
    for (const pid of await processesInside(lost.home)) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // Gone with its parent meanwhile.
      }
    }
    const resumed = await eventually("a write acknowledged by another server", () => Promise.resolve(writer.acknowledged.find((a) => a.at > killedAt && a.server !== killedServer)), 60_000);
    const failoverMs = Math.round(resumed.at - killedAt);
    console.log(`node ${lostNode} lost with its primary ${primary.metadata.name}: first write acknowledged by the new primary ${failoverMs} ms after the kill (lease ${LEASE_SECONDS * 1000} ms)`);
    assert.ok(failoverMs > LEASE_SECONDS * 1000 * 0.5, "not before the lease could have expired");
    const newPrimary = await eventually("the new primary recorded", async () => {
      const name = await currentPrimary(node(survivor));
      return name !== undefined && name !== primary.metadata.name ? name : undefined;
    }, 30_000);

    await lost.startProcess();
    await eventually(`${primary.metadata.name} back as a replica of ${newPrimary}`, async () => {
      const all = await members(node(survivor));
      const old = all.find((i) => i.metadata.name === primary.metadata.name);
      return old?.status?.role === "secondary" && old.status.replication?.state === "streaming" ? old : undefined;
    }, 180_000);
    await sleep(500);
    await sampler.stop();
    await writer.stop();
    const missing = (await writer.missingOn(at(uri, ADDRESSES[survivor], o.port), "loss_writes")).length;
    console.log(`${sampler.samples} samples of every instance's role every 100 ms: ${sampler.doubles.length} with two primaries; ${writer.acknowledged.length} writes acknowledged, ${missing} missing afterwards (asynchronous replication)`);
    assert.deepEqual(sampler.doubles, [], "never two primaries");
  }
});
