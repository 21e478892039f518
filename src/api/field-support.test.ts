import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { clusterSchema } from "./cluster.ts";
import { fieldNotes, pruneUnknownFields } from "./field-support.ts";
import { opsRequestSchema } from "./ops-request.ts";
import { roleSchema } from "./rbac.ts";

const cluster = (component: Record<string, unknown>, spec: Record<string, unknown> = {}): Record<string, unknown> => ({
  apiVersion: "apps.kubeblocks.io/v1",
  kind: "Cluster",
  metadata: { name: "pg", namespace: "demo", labels: { any: "label" } },
  spec: { terminationPolicy: "Delete", clusterDef: "postgresql", componentSpecs: [{ name: "postgresql", replicas: 1, ...component }], ...spec },
});

describe("pruneUnknownFields", () => {
  it("finds the fields a kind's schema does not name, at any depth, and drops them", () => {
    const { value, unknown } = pruneUnknownFields(clusterSchema, { ...cluster({ bogus: 1, resources: { limits: { cpu: "1" }, extra: true } }, { foo: "x" }), top: 1 });
    assert.deepEqual(unknown, ["spec.componentSpecs[0].bogus", "spec.componentSpecs[0].resources.extra", "spec.foo", "top"]);
    assert.deepEqual(value, cluster({ resources: { limits: { cpu: "1" } } }));
  });

  it("keeps maps (labels, limits) whole, knows KubeBlocks' fields, and ignores nulls (merge-patch deletes)", () => {
    assert.deepEqual(pruneUnknownFields(clusterSchema, cluster({ tls: false, env: [], configs: [{ name: "c", variables: { max_connections: "200" } }] }, { services: [] })).unknown, []);
    assert.deepEqual(pruneUnknownFields(clusterSchema, { spec: { foo: null } }).unknown, []);
  });

  it("takes __proto__ and constructor keys for unknown fields, never for Object.prototype's", () => {
    const hostile = JSON.parse('{"spec":{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}}') as unknown;
    const { value, unknown } = pruneUnknownFields(clusterSchema, hostile);
    assert.deepEqual(unknown, ["spec.__proto__", "spec.constructor"]);
    assert.equal(Object.getPrototypeOf((value as { spec: object }).spec), Object.prototype);
    assert.deepEqual(fieldNotes(clusterSchema, hostile), []);
  });

  it("works for every kind with a schema: OpsRequest, RBAC", () => {
    assert.deepEqual(pruneUnknownFields(opsRequestSchema, { spec: { clusterName: "pg", type: "Restart", restartt: [] } }).unknown, ["spec.restartt"]);
    assert.deepEqual(pruneUnknownFields(roleSchema, { rules: [{ verbs: ["get"], resources: ["pods"], apiGroup: [""] }] }).unknown, ["rules[0].apiGroup"]);
  });
});

describe("fieldNotes", () => {
  it("refuses what a refusedWhen field says, only for the values it names", () => {
    const spread = (minDomains: number | undefined) => ({ schedulingPolicy: { topologySpreadConstraints: [{ maxSkew: 1, topologyKey: "zone", ...(minDomains === undefined ? {} : { minDomains }) }] } });
    assert.deepEqual(fieldNotes(clusterSchema, cluster(spread(2))).map((n) => [n.field, n.support]), [["spec.componentSpecs[0].schedulingPolicy.topologySpreadConstraints[0].minDomains", "refused"]]);
    assert.deepEqual(fieldNotes(clusterSchema, cluster(spread(undefined))), []);
  });

  it("accepts tls: true with an issuer (served since ADR 0042)", () => {
    assert.deepEqual(fieldNotes(clusterSchema, cluster({ tls: true, issuer: { name: "KubeBlocks" } })), []);
    assert.deepEqual(fieldNotes(clusterSchema, cluster({ tls: false })), []);
  });

  it("reports the fields set and not honoured, by path", () => {
    const services = [{ name: "x", componentSelector: "postgresql", spec: { type: "LoadBalancer" } }];
    const notes = fieldNotes(clusterSchema, cluster({ configs: [{ name: "pg", variables: { max_connections: "200" } }], env: [{ name: "A", value: "b" }], disableExporter: false }, { services }));
    assert.deepEqual(notes.map((n) => n.field), ["spec.componentSpecs[0].env", "spec.services[0].spec"], "configs variables and the services themselves are honoured");
    assert.ok(notes.every((n) => n.support === "reported"));
    assert.match(notes[0]?.message ?? "", /not passed/);
    assert.deepEqual(fieldNotes(clusterSchema, cluster({ disableExporter: true, env: [] })), [], "what happens anyway is not reported");
  });
});
