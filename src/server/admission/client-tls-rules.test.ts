import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Cluster, ComponentSpec } from "../../api/index.ts";
import { clientTlsCauses, clientTlsReferences } from "./client-tls-rules.ts";

const cluster = { apiVersion: "apps.kubeblocks.io/v1", kind: "Cluster", metadata: { name: "pg", namespace: "demo" }, spec: { componentSpecs: [] } } as unknown as Cluster;

function causes(component: Partial<ComponentSpec>): string[] {
  return clientTlsCauses(cluster, { name: "postgresql", replicas: 1, ...component }, "spec.componentSpecs[0]").map((c) => `${c.field}: ${c.message}`);
}

describe("clientTlsCauses", () => {
  it("accepts tls: true alone and with the KubeBlocks issuer", () => {
    assert.deepEqual(causes({ tls: true }), []);
    assert.deepEqual(causes({ tls: true, issuer: { name: "KubeBlocks" } }), []);
  });

  it("accepts a UserProvided Secret of the cluster's namespace (its contents are checked against the store: clientTlsSecretCauses)", () => {
    assert.deepEqual(causes({ tls: true, issuer: { name: "UserProvided", secretRef: { name: "pg-tls", namespace: "demo" } } }), []);
    assert.deepEqual(causes({ tls: true, issuer: { name: "UserProvided", secretRef: { name: "pg-tls" } } }), []);
  });

  it("refuses UserProvided for a component watched by Sentinel, naming the field", () => {
    const refused = clientTlsCauses(cluster, { name: "redis", replicas: 2, tls: true, issuer: { name: "UserProvided", secretRef: { name: "r-tls" } } }, "spec.componentSpecs[0]", true);
    assert.match(refused.map((c) => `${c.field}: ${c.message}`)[0] ?? "", /^spec\.componentSpecs\[0\]\.issuer\.name: Unsupported value: "UserProvided": not yet for a component watched by arbiters/);
  });

  it("names the user's Secret among the objects the writer must be able to read", () => {
    const withTls = { ...cluster, spec: { ...cluster.spec, componentSpecs: [{ name: "postgresql", replicas: 1, tls: true, issuer: { name: "UserProvided" as const, secretRef: { name: "pg-tls" } } }, { name: "other", replicas: 1 }] } };
    const references = clientTlsReferences(withTls);
    assert.deepEqual(references.map((r) => [r.kind, r.namespace, r.name, r.cause.field]), [["Secret", "demo", "pg-tls", "spec.componentSpecs[0].issuer.secretRef.name"]]);
    assert.match(references[0]?.cause.message ?? "", /create it first with the keys ca\.crt, tls\.crt and tls\.key/);
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
