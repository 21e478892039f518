import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { connect, createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Cluster, ClusterEndpoint } from "../api/index.ts";
import { EndpointRegistry } from "../runtime/index.ts";
import { openSqliteStore, type Store } from "../store/index.ts";
import { silentLogger } from "../util/index.ts";
import { EndpointReconciler } from "./endpoints.ts";
import { READ_ONLY_HOLD_MS, READ_WRITE_HOLD_MS, servedEndpoints } from "./served-endpoints.ts";

const KEY = "demo/pg";

async function listen(server: Server, port: number, host: string): Promise<number> {
  server.listen(port, host);
  await once(server, "listening");
  return (server.address() as { port: number }).port;
}

/** A database stand-in on `host` that greets every connection with its name. */
async function backend(name: string, host: string): Promise<{ server: Server; port: number }> {
  const server = createServer((socket) => socket.end(`${name}\n`));
  return { server, port: await listen(server, 0, host) };
}

/** The first line an endpoint's target sends, or "closed". */
function greeting(host: string, port: number): Promise<{ line: string; socket: Socket }> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    let data = "";
    socket.on("data", (chunk) => {
      data += chunk.toString();
      if (data.includes("\n")) resolve({ line: data.split("\n")[0] ?? "", socket });
    });
    socket.on("error", () => undefined);
    socket.on("close", () => resolve({ line: data === "" ? "closed" : data.trim(), socket }));
  });
}

function endpoint(name: string, port: number, addresses: string[], extra: Partial<ClusterEndpoint> = {}): ClusterEndpoint {
  return { name, component: "postgresql", access: name.endsWith("-ro") ? "ReadOnly" : "ReadWrite", roleSelector: "primary", port, targets: addresses.map((_a, i) => `pg-postgresql-${i}`), addresses, ...extra };
}

describe("servedEndpoints (pure)", () => {
  const base: Cluster = { apiVersion: "apps.kubeblocks.io/v1", kind: "Cluster", metadata: { name: "pg", namespace: "demo" }, spec: { terminationPolicy: "Delete", componentSpecs: [] } };

  it("serves every recorded endpoint with its route; a read-write one waits longer for a target", () => {
    const served = servedEndpoints({ ...base, status: { endpoints: [endpoint("pg-postgresql", 31000, ["127.0.10.1:20000", "[::1]:20001"], { hold: true }), endpoint("pg-postgresql-ro", 31001, [])] } }, { advertise: "127.0.10.3" });
    assert.deepEqual(served.map((s) => [s.key, s.host, s.tlsOnly, s.endpoint.port, s.holdTimeoutMs, s.route]), [
      ["demo/pg-postgresql", "127.0.10.3", false, 31000, READ_WRITE_HOLD_MS, { targets: [{ host: "127.0.10.1", port: 20000 }, { host: "::1", port: 20001 }], hold: true }],
      ["demo/pg-postgresql-ro", "127.0.10.3", false, 31001, READ_ONLY_HOLD_MS, { targets: [], hold: false }],
    ]);
  });

  it("serves an exposed endpoint on the node's external address only, TLS only; a node without one leaves it out", () => {
    const cluster = { ...base, status: { endpoints: [endpoint("pg-postgresql", 31000, []), endpoint("pg-postgresql-internet", 31002, ["127.0.10.1:20000"], { exposed: true })] } };
    const withExternal = servedEndpoints(cluster, { advertise: "127.0.10.3", external: "10.77.0.1" });
    assert.deepEqual(withExternal.map((s) => [s.key, s.host, s.tlsOnly]), [["demo/pg-postgresql", "127.0.10.3", false], ["demo/pg-postgresql-internet", "10.77.0.1", true]]);
    assert.deepEqual(servedEndpoints(cluster, { advertise: "127.0.10.3" }).map((s) => s.key), ["demo/pg-postgresql"]);
  });

  it("serves nothing for a cluster that is gone or being deleted", () => {
    assert.deepEqual(servedEndpoints(undefined, { advertise: "127.0.10.3" }), []);
    assert.deepEqual(servedEndpoints({ ...base, metadata: { ...base.metadata, deletionTimestamp: "2026-01-01T00:00:00Z" }, status: { endpoints: [endpoint("pg-postgresql", 31000, [])] } }, { advertise: "127.0.10.3" }), []);
  });
});

describe("EndpointReconciler: two nodes serve one cluster's endpoints on their own addresses", () => {
  let dir: string;
  let store: Store;
  const registries = [new EndpointRegistry(), new EndpointRegistry()];
  const events: string[] = [];
  let nodes: { address: string; reconciler: EndpointReconciler }[] = [];
  const servers: Server[] = [];
  let primary: { server: Server; port: number };
  let promoted: { server: Server; port: number };
  let port: number;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "holdfast-agent-endpoints-"));
    store = openSqliteStore({ path: join(dir, "store.db") });
    await store.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: "demo" } });
    const recorder = { record: (_o: unknown, _t: unknown, _r: unknown, message: string) => Promise.resolve(void events.push(message)) };
    nodes = ["127.0.10.5", "127.0.10.6"].map((address, i) => ({ address, reconciler: new EndpointReconciler({ store, registry: registries[i] ?? new EndpointRegistry(), addresses: { advertise: address }, tlsStartOf: () => undefined, nodeName: `node${i}`, events: recorder, logger: silentLogger() }) }));
    primary = await backend("primary", "127.0.10.7");
    promoted = await backend("promoted", "127.0.10.8");
    servers.push(primary.server, promoted.server);
    const probe = createServer();
    port = await listen(probe, 0, "127.0.10.5");
    probe.close();
    const cluster = await store.create<Cluster>({ apiVersion: "apps.kubeblocks.io/v1", kind: "Cluster", metadata: { name: "pg", namespace: "demo" }, spec: { terminationPolicy: "Delete", componentSpecs: [{ name: "postgresql", replicas: 2 }] } });
    await store.updateStatus<Cluster>({ ...cluster, status: { endpoints: [endpoint("pg-postgresql", port, [`127.0.10.7:${primary.port}`])] } });
  });

  after(async () => {
    for (const registry of registries) await registry.closeAll();
    for (const server of servers) server.close();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function reconcileAll(): Promise<void> {
    for (const node of nodes) await node.reconciler.reconcile(KEY);
  }

  async function record(change: (endpoints: ClusterEndpoint[]) => ClusterEndpoint[]): Promise<void> {
    const current = (await store.get<Cluster>({ kind: "Cluster", namespace: "demo", name: "pg" })) ?? assert.fail("cluster exists");
    await store.updateStatus<Cluster>({ ...current, status: { ...current.status, endpoints: change(current.status?.endpoints ?? []) } });
  }

  it("opens the recorded port on each node's address, leading to the recorded target", async () => {
    await reconcileAll();
    for (const node of nodes) assert.equal((await greeting(node.address, port)).line, "primary", node.address);
  });

  it("follows a new record: held connections wait, then reach the promoted instance on every node", async () => {
    await record((endpoints) => endpoints.map((e) => ({ ...e, targets: [], addresses: [], hold: true })));
    await reconcileAll();
    const waiting = nodes.map((node) => greeting(node.address, port));
    await new Promise((resolve) => setTimeout(resolve, 200));
    await record((endpoints) => endpoints.map((e) => ({ ...e, targets: ["pg-postgresql-1"], addresses: [`127.0.10.8:${promoted.port}`], hold: false })));
    await reconcileAll();
    assert.deepEqual((await Promise.all(waiting)).map((w) => w.line), ["promoted", "promoted"]);
  });

  it("reports a port it cannot listen on once, and tries again later", async () => {
    const squatter = createServer();
    const taken = await listen(squatter, 0, "127.0.10.6");
    servers.push(squatter);
    await record((endpoints) => [...endpoints, endpoint("pg-postgresql-ro", taken, [`127.0.10.8:${promoted.port}`])]);
    const [first, second] = nodes;
    assert.deepEqual(await first?.reconciler.reconcile(KEY), undefined, "the port is free on node 0's address");
    assert.equal((await greeting(first?.address ?? "", taken)).line, "promoted");
    assert.ok((await second?.reconciler.reconcile(KEY))?.requeueAfterMs !== undefined, "requeued");
    await second?.reconciler.reconcile(KEY);
    assert.equal(events.filter((e) => e.startsWith("pg-postgresql-ro on node node1: ")).length, 1, events.join("\n"));
    assert.equal((await greeting(second?.address ?? "", port)).line, "promoted", "its other endpoint is served");
    squatter.close();
  });

  it("closes every endpoint of a deleted cluster", async () => {
    await store.delete({ kind: "Cluster", namespace: "demo", name: "pg" });
    await reconcileAll();
    assert.deepEqual(registries.map((r) => r.names()), [[], []]);
    assert.equal((await greeting(nodes[0]?.address ?? "", port)).line, "closed");
  });
});
