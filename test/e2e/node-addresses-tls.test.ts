/**
 * Clients on the nodes' own addresses (ADR 0028, "Since"): two nodes on one etcd advertising 127.0.42.1 and
 * 127.0.42.2 run a 2-replica PostgreSQL cluster (the KubeBlocks example). `holdfast cluster connect` opens psql on
 * the read-write endpoint of the node the CLI talks to, not on 127.0.0.1 (where no node serves it), with verify-full
 * TLS, like `--show-uri`. A third node joins while the cluster runs: the running instances' certificates are reissued
 * to name its address and reloaded without a restart, so psql with `sslmode=verify-full` through the third node's
 * endpoints works.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Cluster, ClusterEndpoint, Instance } from "../../src/api/index.ts";
import { accepts, connectionUri, endpointOf, installedPostgresMajor, psql, uriAt } from "../helpers/clients.ts";
import { etcdMissing } from "../helpers/etcd.ts";
import { eventually } from "../helpers/harness.ts";
import { exampleWith } from "../helpers/manifests.ts";
import { TestNodes } from "../helpers/nodes.ts";

const NS = "demo";
const NAME = "pg-cluster";
const FIRST_TWO = [{ name: "tls1", address: "127.0.42.1" }, { name: "tls2", address: "127.0.42.2" }];
const LATER = { name: "tls3", address: "127.0.42.3" };
const skip = etcdMissing();

const nodes = new TestNodes();

async function cluster(): Promise<Cluster> {
  return nodes.node("tls1").api<Cluster>(`/apis/apps.kubeblocks.io/v1/namespaces/${NS}/clusters/${NAME}`);
}

async function instances(): Promise<Instance[]> {
  return (await nodes.node("tls1").api<{ items: Instance[] }>(`/apis/holdfast.io/v1alpha1/namespaces/${NS}/instances`)).items;
}

/** The port of the instance the cluster records as primary. */
async function primaryPort(): Promise<number> {
  const name = (await cluster()).status?.replication?.["postgresql"]?.currentPrimary ?? assert.fail("a primary is recorded");
  return (await instances()).find((i) => i.metadata.name === name)?.spec.port ?? assert.fail(`no instance ${name}`);
}

/** The serving certificate of `instance`, from the home of the node it runs on. */
async function certificateOf(instance: Instance): Promise<X509Certificate> {
  const home = nodes.node(instance.spec.nodeName ?? assert.fail("bound to a node")).home;
  return new X509Certificate(await readFile(join(home, "instances", NS, instance.metadata.name, "tls", "server.crt")));
}

/** The lines of a client's output, trimmed. */
function lines(output: string): string[] {
  return output.split("\n").map((line) => line.trim());
}

/** What the server a psql session reached says of it: `<port>|tls` (or `|plain`). */
const WHERE = "SELECT inet_server_port() || '|' || CASE WHEN ssl THEN 'tls' ELSE 'plain' END FROM pg_stat_ssl WHERE pid = pg_backend_pid()";

describe("clients on the nodes' addresses, and a node that joins later", { skip, timeout: 900_000 }, () => {
  let rw: ClusterEndpoint;
  let ro: ClusterEndpoint;

  before(async () => {
    await nodes.start(FIRST_TWO);
    const first = nodes.node("tls1");
    await first.ok(["create", "namespace", NS]);
    const major = await installedPostgresMajor();
    await first.ok(["apply", "-f", "-"], await exampleWith("postgresql/cluster.yaml", (doc) => {
      doc["spec"].componentSpecs[0].serviceVersion = major;
      // About certificates and addresses, not failover: a primary lease longer than the test keeps the primary in place
      // on a loaded machine (ADR 0029).
      doc["metadata"].annotations = { "holdfast.io/ha-lease-seconds": "60" };
    }));
    await first.ok(["wait", `cluster/${NAME}`, "-n", NS, "--for=phase=Running", "--timeout=300s"]);
    const routed = await eventually("a primary and a streaming replica, routed", async () => {
      const c = await cluster();
      return c.status?.endpoints?.length === 2 && c.status.endpoints.every((e) => (e.addresses ?? []).length === 1) ? c : undefined;
    }, 120_000);
    rw = endpointOf(routed, "ReadWrite");
    ro = endpointOf(routed, "ReadOnly");
  });

  after(async () => {
    await nodes.destroy();
  });

  test("cluster connect opens psql on the read-write endpoint of the node the CLI talks to, TLS verified, like --show-uri", async () => {
    const via = nodes.node("tls2");
    assert.equal(await accepts("127.0.0.1", rw.port), false, "no node serves its endpoints on 127.0.0.1");
    const opened = await via.cli(["cluster", "connect", NAME, "-n", NS], `\\pset tuples_only on\n${WHERE};\n`);
    assert.equal(opened.code, 0, opened.stderr);
    assert.ok(opened.stderr.includes(`(127.0.42.2:${rw.port})`), opened.stderr);
    assert.ok(lines(opened.stdout).includes(`${await primaryPort()}|tls`), `reached the primary, over TLS: ${opened.stdout}`);
    const uri = new URL(await connectionUri(via, NAME, NS));
    assert.equal(uri.hostname, "127.0.42.2");
    assert.equal(uri.port, String(rw.port));
    assert.equal(uri.searchParams.get("sslmode"), "verify-full");
  });

  test("a third node joins: running instances get certificates naming it, reloaded without a restart; verify-full through it works", async () => {
    const running = await instances();
    assert.equal(new Set(running.map((i) => i.spec.nodeName)).size, 2, "one instance on each of the first two nodes");
    for (const i of running) assert.equal((await certificateOf(i)).checkIP(LATER.address), undefined, `${i.metadata.name}'s certificate does not name ${LATER.address} yet`);
    const joinedAt = performance.now();
    const third = await nodes.join(LATER);
    const uri = await connectionUri(third, NAME, NS);
    assert.equal(new URL(uri).hostname, LATER.address, "--show-uri on the third node names its address");
    const port = await primaryPort();
    const written = await eventually(`psql with verify-full through ${LATER.address}'s read-write endpoint`, async () => {
      const result = await psql(uri, WHERE);
      return result.code === 0 ? result.stdout.trim() : undefined;
    }, 120_000);
    console.log(`node ${LATER.name} joined; psql verify-full through its read-write endpoint answered ${Math.round(performance.now() - joinedAt)} ms after the join began`);
    assert.equal(written, `${port}|tls`);
    // Each instance's agent reissues its own certificate at its next readiness probe: the replica's may come later.
    const read = await eventually(`psql with verify-full through ${LATER.address}'s read-only endpoint`, async () => {
      const result = await psql(uriAt(uri, LATER.address, ro.port), "SELECT pg_is_in_recovery()");
      return result.code === 0 ? result.stdout.trim() : undefined;
    }, 60_000);
    assert.equal(read, "t");
    const later = await instances();
    for (const i of running) {
      const now = later.find((a) => a.metadata.name === i.metadata.name);
      assert.equal(now?.status?.pid, i.status?.pid, `${i.metadata.name} was not restarted`);
      assert.notEqual((await certificateOf(i)).checkIP(LATER.address), undefined, `${i.metadata.name}'s certificate names ${LATER.address}`);
    }
    assert.match(await third.ok(["get", "events", "-n", NS]), /CertificateRenewed/);
    const opened = await third.cli(["cluster", "connect", NAME, "-n", NS], `\\pset tuples_only on\n${WHERE};\n`);
    assert.equal(opened.code, 0, opened.stderr);
    assert.ok(lines(opened.stdout).includes(`${port}|tls`), opened.stdout);
  });
});
