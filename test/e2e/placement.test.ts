/**
 * Placement over several nodes (ADR 0027): three nodes on one etcd, each with its own home, loopback address and node
 * labels. A 2-replica PostgreSQL cluster lands on two different nodes and replicates; the node of its secondary is lost
 * (its server and database killed), and after the grace period the secondary is rebuilt on the third node from the
 * primary's data; when the lost node comes back its node agent lets go of its former copy (nothing of it runs there,
 * its files are moved aside), so the instance never runs twice. schedulingPolicy fields Holdfast lacks are refused.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import type { Cluster, Instance, Node } from "../../src/api/index.ts";
import { connectionUri, installedPostgresMajor, psql } from "../helpers/clients.ts";
import { etcdMissing } from "../helpers/etcd.ts";
import { eventually, type TestServer } from "../helpers/harness.ts";
import { exampleWith } from "../helpers/manifests.ts";
import { TestNodes } from "../helpers/nodes.ts";

const skip = etcdMissing();
const NS = "demo";
const NAME = "pg-cluster";
const MEMBERS = [0, 1].map((i) => `${NAME}-postgresql-${i}`);
const ADDRESSES = { n1: "127.0.20.1", n2: "127.0.20.2", n3: "127.0.20.3" } as const;
type NodeName = keyof typeof ADDRESSES;

const nodes = new TestNodes();

function node(name: string): TestServer {
  return nodes.node(name);
}

/** A node that is up, to read through. */
function via(except?: string): TestServer {
  const found = [...nodes.servers.entries()].find(([name]) => name !== except)?.[1];
  assert.ok(found);
  return found;
}

function instance(name: string, from: TestServer = via()): Promise<Instance> {
  return from.api<Instance>(`/apis/holdfast.io/v1alpha1/namespaces/${NS}/instances/${name}`);
}

async function sql(uri: string, text: string): Promise<string> {
  const result = await psql(uri, text);
  assert.equal(result.code, 0, result.stderr);
  return result.stdout.trim();
}

/** `uri` pointed at the instance itself (its address and port) rather than the read-write endpoint. */
function onInstance(uri: string, target: Instance): string {
  const url = new URL(uri);
  url.hostname = target.status?.host ?? "127.0.0.1";
  url.port = String(target.spec.port);
  return url.toString();
}

describe("placement over three nodes", { skip, timeout: 600_000 }, () => {
  before(async () => {
    const zones = { n1: "a", n2: "b", n3: "c" } as const;
    await nodes.start((Object.keys(ADDRESSES) as NodeName[]).map((name) => ({ name, address: ADDRESSES[name], serverArgs: ["--node-labels", `zone=${zones[name]}`] })));
    await node("n1").ok(["create", "namespace", NS]);
  });

  after(async () => {
    await nodes.destroy();
  });

  test("every node carries its --node-labels and its kubernetes.io/hostname label", async () => {
    const list = await via().api<{ items: Node[] }>("/apis/holdfast.io/v1alpha1/nodes");
    const labels = Object.fromEntries(list.items.map((n) => [n.metadata.name, n.metadata.labels]));
    assert.deepEqual(labels, { n1: { zone: "a", "kubernetes.io/hostname": "n1" }, n2: { zone: "b", "kubernetes.io/hostname": "n2" }, n3: { zone: "c", "kubernetes.io/hostname": "n3" } });
    assert.match(await via().ok(["get", "nodes", "-o", "wide"]), /n2 .*kubernetes\.io\/hostname=n2,zone=b|n2 .*zone=b,kubernetes\.io\/hostname=n2/);
  });

  test("schedulingPolicy fields Holdfast does not honour are refused at admission, naming the field", async () => {
    const manifest = await exampleWith("postgresql/cluster.yaml", (doc) => {
      doc["metadata"].name = "refused";
      doc["spec"].componentSpecs[0].schedulingPolicy = { affinity: { podAntiAffinity: {} } };
    });
    const refused = await via().cli(["apply", "-f", "-"], manifest);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /spec\.componentSpecs\[0\]\.schedulingPolicy\.affinity/);
    assert.match(refused.stderr, /use nodeSelector/);
  });

  let uri = "";
  let secondary: Instance | undefined;

  test("a 2-replica PostgreSQL cluster lands on two different nodes and replicates", async () => {
    const major = await installedPostgresMajor();
    const manifest = await exampleWith("postgresql/cluster.yaml", (doc) => {
      doc["metadata"].annotations = { "holdfast.io/node-lost-grace": "5" };
      doc["spec"].componentSpecs[0].replicas = 2;
      doc["spec"].componentSpecs[0].serviceVersion = major;
    });
    await via().ok(["apply", "-f", "-"], manifest);
    await via().ok(["wait", `cluster/${NAME}`, "-n", NS, "--for=phase=Running", "--timeout=180s"]);
    const placed = await Promise.all(MEMBERS.map((name) => instance(name)));
    const nodeNames = placed.map((i) => i.spec.nodeName);
    console.log(`instances placed on ${nodeNames.join(", ")}`);
    assert.equal(new Set(nodeNames).size, 2, `two different nodes: ${nodeNames.join(", ")}`);
    const wide = await via().ok(["get", "instances", "-n", NS, "-o", "wide"]);
    for (const i of placed) assert.match(wide, new RegExp(`${i.metadata.name}\\s.*\\s${i.spec.nodeName ?? "?"}\\s*$`, "m"));
    const cluster = await via().api<Cluster>(`/apis/apps.kubeblocks.io/v1/namespaces/${NS}/clusters/${NAME}`);
    const spread = cluster.status?.conditions?.find((c) => c.type === "InstancesSpread");
    assert.equal(spread?.status, "True", JSON.stringify(spread));
    uri = await connectionUri(via(), NAME, NS);
    await sql(uri, "CREATE TABLE placed (id int); INSERT INTO placed VALUES (1), (2)");
    const primaryName = cluster.status?.replication?.["postgresql"]?.currentPrimary;
    secondary = placed.find((i) => i.metadata.name !== primaryName);
    assert.ok(secondary !== undefined);
    const target = secondary;
    await eventually("the rows on the secondary", async () => ((await psql(onInstance(uri, target), "SELECT count(*) FROM placed")).stdout.trim() === "2" ? true : undefined), 30_000);
  });

  test("the secondary's node is lost: after the grace period it is rebuilt on the third node from the primary; the node's return releases its old copy", async () => {
    assert.ok(secondary !== undefined);
    const lostName = secondary.spec.nodeName ?? "";
    const lost = node(lostName);
    const primary = await instance(MEMBERS.find((m) => m !== secondary?.metadata.name) ?? "", via(lostName));
    const used = new Set([lostName, primary.spec.nodeName]);
    const spare = (Object.keys(ADDRESSES) as NodeName[]).find((n) => !used.has(n));
    assert.ok(spare !== undefined);
    const killedAt = performance.now();
    await lost.kill();
    process.kill(secondary.status?.pid ?? 0, "SIGKILL");
    const other = via(lostName);
    const rebuilt = await eventually(
      `${secondary.metadata.name} rebuilt on ${spare} and streaming`,
      async () => {
        const current = await instance(secondary?.metadata.name ?? "", other);
        return current.spec.nodeName === spare && current.status?.ready === true && current.status.role === "secondary" ? current : undefined;
      },
      150_000,
    );
    console.log(`${rebuilt.metadata.name} rebuilt on ${spare} and ready ${((performance.now() - killedAt) / 1000).toFixed(1)} s after node ${lostName} was lost (node grace 20 s + node-lost grace 5 s)`);
    assert.deepEqual(rebuilt.spec.formerNodes, [lostName]);
    assert.equal(await sql(onInstance(uri, rebuilt), "SELECT count(*) FROM placed"), "2", "the data came from the primary");
    await sql(uri, "INSERT INTO placed VALUES (3)");
    await eventually("the new row on the rebuilt secondary", async () => ((await psql(onInstance(uri, rebuilt), "SELECT count(*) FROM placed")).stdout.trim() === "3" ? true : undefined), 30_000);
    assert.match(await other.ok(["get", "events", "-n", NS]), /Rebuilding\s+instance\/\S+\s+rebuilding on node/);

    await lost.startProcess();
    const released = await eventually("the returning node lets go of its former copy", async () => {
      const current = await instance(rebuilt.metadata.name, other);
      return current.spec.formerNodes === undefined ? current : undefined;
    });
    assert.equal(released.spec.nodeName, spare, "not moved back");
    assert.equal(released.status?.pid, rebuilt.status?.pid, "the rebuilt copy kept running");
    const files = await readdir(join(lost.home, "instances", NS));
    assert.ok(files.some((f) => f.startsWith(`${rebuilt.metadata.name}.released-`)), `moved aside: ${files.join(", ")}`);
    assert.ok(!files.includes(rebuilt.metadata.name), "nothing left where a later rebuild there would find it");
    assert.match(await other.ok(["get", "events", "-n", NS]), /Released\s+instance\/\S+\s+node \S+ let go of its former copy/);
  });
});
