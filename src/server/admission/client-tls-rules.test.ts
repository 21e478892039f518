import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Cluster, ComponentSpec } from "../../api/index.ts";
import { clientTlsCauses } from "./client-tls-rules.ts";

const cluster = { apiVersion: "apps.kubeblocks.io/v1", kind: "Cluster", metadata: { name: "pg", namespace: "demo" }, spec: { componentSpecs: [] } } as unknown as Cluster;

function causes(component: Partial<ComponentSpec>): string[] {
  return clientTlsCauses(cluster, { name: "postgresql", replicas: 1, ...component }, "spec.componentSpecs[0]").map((c) => `${c.field}: ${c.message}`);
}

describe("clientTlsCauses", () => {
  it("accepts tls: true alone and with the KubeBlocks issuer", () => {
    assert.deepEqual(causes({ tls: true }), []);
    assert.deepEqual(causes({ tls: true, issuer: { name: "KubeBlocks" } }), []);
  });

  it("refuses a UserProvided Secret it would not serve, naming the field", () => {
    assert.match(causes({ tls: true, issuer: { name: "UserProvided", secretRef: { name: "pg-tls", namespace: "demo" } } })[0] ?? "", /^spec\.componentSpecs\[0\]\.issuer\.name: Unsupported value: "UserProvided"/);
  });

  it("refuses an issuer without tls, naming the field", () => {
    assert.match(causes({ issuer: { name: "KubeBlocks" } })[0] ?? "", /^spec\.componentSpecs\[0\]\.issuer: Forbidden: an issuer needs tls: true/);
  });

  it("refuses UserProvided without a Secret, or with one of another namespace", () => {
    assert.match(causes({ tls: true, issuer: { name: "UserProvided" } })[0] ?? "", /^spec\.componentSpecs\[0\]\.issuer\.secretRef: Required value/);
    assert.match(causes({ tls: true, issuer: { name: "UserProvided", secretRef: { name: "x", namespace: "other" } } })[0] ?? "", /secretRef\.namespace: Forbidden: .*namespace demo/);
  });

  it("refuses a secretRef with the KubeBlocks issuer", () => {
    assert.match(causes({ tls: true, issuer: { name: "KubeBlocks", secretRef: { name: "x" } } })[0] ?? "", /issuer\.secretRef: Forbidden/);
  });
});
