import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Cluster, ClusterEndpoint, Instance } from "../../api/index.ts";
import { openSqliteStore, type Store } from "../../store/index.ts";
import { ClusterEndpoints, endpointsWithRecordedPorts, routedEndpoints, wantedEndpoints } from "./endpoints.ts";
import type { Member } from "./plan.ts";

function cluster(endpoints?: NonNullable<Cluster["status"]>["endpoints"]): Cluster {
  return {
    apiVersion: "apps.kubeblocks.io/v1",
    kind: "Cluster",
    metadata: { name: "pg", namespace: "demo" },
    spec: { terminationPolicy: "Delete", componentSpecs: [{ name: "postgresql", replicas: 2 }] },
    ...(endpoints === undefined ? {} : { status: { endpoints } }),
  };
}

function instance(ordinal: number, host?: string): Instance {
  return {
    apiVersion: "holdfast.io/v1alpha1",
    kind: "Instance",
    metadata: { name: `pg-postgresql-${ordinal}`, namespace: "demo" },
    spec: { engine: "postgresql", version: "16", clusterName: "pg", componentName: "postgresql", ordinal, port: 20000 + ordinal, running: true, parameters: {}, deleteData: true },
    ...(host === undefined ? {} : { status: { host } }),
  };
}

function member(i: Instance): Member {
  return { name: i.metadata.name, instance: i, observation: undefined, failures: 0 };
}

describe("endpoint records (pure)", () => {
  it("names a read-write and a read-only endpoint per component, ports to be allocated", () => {
    assert.deepEqual(
      wantedEndpoints(cluster(), "postgresql").map((e) => [e.name, e.access, e.roleSelector, e.port]),
      [["pg-postgresql", "ReadWrite", "primary", 0], ["pg-postgresql-ro", "ReadOnly", "secondary", 0]],
    );
  });

  it("adds an exposed endpoint per ClusterService selecting the component, for the role it selects", () => {
    const withServices: Cluster = { ...cluster(), spec: { ...cluster().spec, services: [
      { name: "postgresql-internet", componentSelector: "postgresql", roleSelector: "primary" },
      { name: "postgresql-reads", componentSelector: "postgresql", roleSelector: "secondary" },
      { name: "other-internet", componentSelector: "other", roleSelector: "primary" },
    ] } };
    assert.deepEqual(
      wantedEndpoints(withServices, "postgresql").map((e) => [e.name, e.access, e.roleSelector, e.exposed]),
      [["pg-postgresql", "ReadWrite", "primary", undefined], ["pg-postgresql-ro", "ReadOnly", "secondary", undefined], ["pg-postgresql-internet", "ReadWrite", "primary", true], ["pg-postgresql-reads", "ReadOnly", "secondary", true]],
    );
  });

  it("keeps recorded ports and routes, and marks the missing ports 0", () => {
    const recorded = [{ ...wantedEndpoints(cluster(), "postgresql")[0]!, port: 31000, targets: ["pg-postgresql-0"], addresses: ["127.0.10.1:20000"] }];
    const planned = endpointsWithRecordedPorts(cluster(recorded), ["postgresql"]);
    assert.deepEqual(planned.map((e) => [e.name, e.port, e.addresses]), [["pg-postgresql", 31000, ["127.0.10.1:20000"]], ["pg-postgresql-ro", 0, undefined]]);
  });

  it("routes to each target's host:port (the node agent's status.host, 127.0.0.1 until it reports one), and holds only when asked", () => {
    const recorded = wantedEndpoints(cluster(), "postgresql").map((e, i) => ({ ...e, port: 31000 + i }));
    const routed = routedEndpoints(recorded, new Map([
      ["pg-postgresql", { targets: [instance(0, "127.0.10.2")], hold: false }],
      ["pg-postgresql-ro", { targets: [instance(1), instance(2, "::1")], hold: false }],
    ]));
    assert.deepEqual(routed.map((e) => [e.targets, e.addresses, e.hold]), [
      [["pg-postgresql-0"], ["127.0.10.2:20000"], undefined],
      [["pg-postgresql-1", "pg-postgresql-2"], ["127.0.0.1:20001", "[::1]:20002"], undefined],
    ]);
    const held = routedEndpoints(routed, new Map([["pg-postgresql", { targets: [], hold: true }]]));
    assert.deepEqual([held[0]?.targets, held[0]?.addresses, held[0]?.hold], [[], [], true]);
    assert.deepEqual(held[1], routed[1], "the other endpoint is left as recorded");
  });
});

describe("ClusterEndpoints (records, never listens)", () => {
  let dir: string;
  let store: Store;
  let writes = 0;
  let endpoints: ClusterEndpoints;
  const events: string[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "holdfast-endpoints-"));
    store = openSqliteStore({ path: join(dir, "store.db") });
    await store.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: "demo" } });
    await store.create<Cluster>(cluster());
    let next = 31000;
    endpoints = new ClusterEndpoints({ store, events: { record: (_o, _t, reason) => Promise.resolve(void events.push(reason)) }, allocate: (inUse) => Promise.resolve(inUse.has(next) ? ++next : next++) });
    store.watch({ kind: "Cluster" }, () => {
      writes++;
    }, () => undefined);
  });

  after(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const stored = async (): Promise<Cluster> => (await store.get<Cluster>({ kind: "Cluster", namespace: "demo", name: "pg" })) ?? assert.fail("cluster exists");

  it("allocates the ports once and records them", async () => {
    const live = await endpoints.ensure(await stored(), ["postgresql"]);
    assert.deepEqual(live.status?.endpoints?.map((e) => [e.name, e.port]), [["pg-postgresql", 31000], ["pg-postgresql-ro", 31001]]);
    assert.equal(await endpoints.ensure(live, ["postgresql"]), live, "nothing to allocate: no write");
    assert.deepEqual(events, ["EndpointsAllocated"]);
  });

  it("records routes, and writes nothing when they are unchanged", async () => {
    const routes = { readWrite: { targets: [member(instance(0, "127.0.10.1"))], hold: false }, readOnly: { targets: [member(instance(1, "127.0.10.2"))], hold: false } };
    await endpoints.route(await stored(), "postgresql", routes);
    const routed = await stored();
    assert.deepEqual(routed.status?.endpoints?.map((e) => e.addresses), [["127.0.10.1:20000"], ["127.0.10.2:20001"]]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const before = writes;
    await endpoints.route(routed, "postgresql", routes);
    await endpoints.route(await stored(), "postgresql", routes);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(writes, before, "an unchanged route is not written again");
  });

  it("holds the read-write endpoint, then sends it to a promoted instance", async () => {
    await endpoints.hold(await stored(), "postgresql");
    assert.deepEqual((await stored()).status?.endpoints?.[0]?.hold, true);
    await endpoints.routeReadWrite(await stored(), "postgresql", instance(1, "127.0.10.2"));
    const readWrite = (await stored()).status?.endpoints?.[0];
    assert.deepEqual([readWrite?.targets, readWrite?.addresses, readWrite?.hold], [["pg-postgresql-1"], ["127.0.10.2:20001"], undefined]);
  });

  it("records an exposed endpoint for a ClusterService, routes and holds it with the read-write one, and drops it with the service", async () => {
    const exposedOf = async (): Promise<ClusterEndpoint | undefined> => (await stored()).status?.endpoints?.find((e) => e.name === "pg-postgresql-internet");
    const plain = await stored();
    await store.update<Cluster>({ ...plain, spec: { ...plain.spec, services: [{ name: "postgresql-internet", componentSelector: "postgresql", roleSelector: "primary" }] } });
    await endpoints.ensure(await stored(), ["postgresql"]);
    assert.deepEqual([(await exposedOf())?.port, (await exposedOf())?.exposed], [31002, true]);
    await endpoints.routeReadWrite(await stored(), "postgresql", instance(0, "127.0.10.1"));
    assert.deepEqual((await exposedOf())?.addresses, ["127.0.10.1:20000"]);
    await endpoints.hold(await stored(), "postgresql");
    assert.equal((await exposedOf())?.hold, true);
    const exposed = await stored();
    await store.update<Cluster>({ ...exposed, spec: { ...exposed.spec, services: [] } });
    const dropped = await endpoints.ensure(await stored(), ["postgresql"]);
    assert.deepEqual(dropped.status?.endpoints?.map((e) => e.name), ["pg-postgresql", "pg-postgresql-ro"]);
  });

  it("unroutes every endpoint of a cluster without replicated components, keeping the ports", async () => {
    await endpoints.unroute(await stored());
    assert.deepEqual((await stored()).status?.endpoints?.map((e) => [e.port, e.targets, e.hold]), [[31000, [], undefined], [31001, [], undefined]]);
  });
});
