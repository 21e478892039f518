import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Cluster, ClusterEndpoint, ExposeSpec, OpsRequest } from "../../api/index.ts";
import { exposedServices, exposeProblem, exposeProgress } from "./expose-plan.ts";

function cluster(services?: Cluster["spec"]["services"], endpoints?: ClusterEndpoint[]): Cluster {
  return {
    apiVersion: "apps.kubeblocks.io/v1",
    kind: "Cluster",
    metadata: { name: "pg", namespace: "demo" },
    spec: { terminationPolicy: "Delete", componentSpecs: [{ name: "postgresql", replicas: 2 }], ...(services === undefined ? {} : { services }) },
    ...(endpoints === undefined ? {} : { status: { endpoints } }),
  };
}

const ENABLE: ExposeSpec = { componentName: "postgresql", switch: "Enable", services: [{ name: "internet", roleSelector: "primary", serviceType: "LoadBalancer" }] };
const DISABLE: ExposeSpec = { ...ENABLE, switch: "Disable" };

function ops(entries: ExposeSpec[]): OpsRequest {
  return { apiVersion: "operations.kubeblocks.io/v1alpha1", kind: "OpsRequest", metadata: { name: "pg-expose", namespace: "demo" }, spec: { clusterName: "pg", type: "Expose", expose: entries } };
}

const WORLD = { externalAddresses: ["10.77.0.1"], exposable: () => true };

describe("Expose (pure)", () => {
  it("adds a ClusterService <component>-<name> for the role selected, once, and Disable removes it", () => {
    const enabled = exposedServices(cluster(), [ENABLE]);
    assert.deepEqual(enabled, [{ name: "postgresql-internet", componentSelector: "postgresql", roleSelector: "primary" }]);
    assert.deepEqual(exposedServices(cluster(enabled), [ENABLE]), enabled, "enabling again changes nothing");
    const other = { name: "other", componentSelector: "postgresql", roleSelector: "secondary" as const };
    assert.deepEqual(exposedServices(cluster([...enabled, other]), [DISABLE]), [other], "only the request's services go");
    assert.deepEqual(exposedServices(cluster(), [{ ...ENABLE, services: [{ name: "reads" }] }])[0]?.roleSelector, "primary", "no roleSelector: the primary");
    assert.deepEqual(exposedServices(cluster(), [{ ...ENABLE, services: [{ name: "reads", roleSelector: "secondary" }] }])[0]?.roleSelector, "secondary");
  });

  it("refuses with a clear message when no node has an external address, an unknown component, or an engine that cannot require TLS", () => {
    assert.equal(exposeProblem(cluster(), [ENABLE], WORLD), undefined);
    assert.match(exposeProblem(cluster(), [ENABLE], { ...WORLD, externalAddresses: [] }) ?? "", /no node has an external address: start the server of a node with --external-address IP/);
    assert.equal(exposeProblem(cluster(), [DISABLE], { ...WORLD, externalAddresses: [] }), undefined, "closing needs no external address");
    assert.match(exposeProblem(cluster(), [{ ...ENABLE, componentName: "redis" }], WORLD) ?? "", /component redis is not in cluster pg/);
    assert.match(exposeProblem(cluster(), [ENABLE], { ...WORLD, exposable: () => false }) ?? "", /cannot require TLS/);
    assert.match(exposeProblem(cluster(), [], WORLD) ?? "", /lists no component/);
  });

  it("is done when the endpoint is recorded with its port, and says where it is reached and where it leads", () => {
    const base: ClusterEndpoint = { name: "pg-postgresql-internet", component: "postgresql", access: "ReadWrite", roleSelector: "primary", port: 31005, exposed: true };
    const waiting = exposeProgress(ops([ENABLE]), cluster(undefined, []), ["10.77.0.1"]);
    assert.deepEqual([waiting.done, waiting.total, waiting.finished], [0, 1, false]);
    const unrouted = exposeProgress(ops([ENABLE]), cluster(undefined, [base]), ["10.77.0.1"]);
    assert.equal(unrouted.finished, true, "a stopped cluster's endpoint is open, routed nowhere");
    assert.match(unrouted.outcome ?? "", /to no instance yet \(no primary is ready\)/);
    const done = exposeProgress(ops([ENABLE]), cluster(undefined, [{ ...base, targets: ["pg-postgresql-0"], addresses: ["127.0.0.1:20000"] }]), ["10.77.0.1", "fd00::1"]);
    assert.deepEqual([done.done, done.total, done.finished], [1, 1, true]);
    assert.deepEqual(done.details, [{ group: "postgresql", objectKey: "Endpoint/pg-postgresql-internet", status: "Succeed", message: "TLS required, on 10.77.0.1:31005, [fd00::1]:31005, to pg-postgresql-0" }]);
    assert.equal(done.outcome, "pg-postgresql-internet TLS required, on 10.77.0.1:31005, [fd00::1]:31005, to pg-postgresql-0");
  });

  it("a Disable is done when the endpoint is gone from the record", () => {
    const recorded: ClusterEndpoint = { name: "pg-postgresql-internet", component: "postgresql", access: "ReadWrite", roleSelector: "primary", port: 31005, exposed: true };
    assert.equal(exposeProgress(ops([DISABLE]), cluster(undefined, [recorded]), []).finished, false);
    const closed = exposeProgress(ops([DISABLE]), cluster(undefined, []), []);
    assert.deepEqual([closed.finished, closed.details?.[0]?.message], [true, "closed"]);
  });
});
