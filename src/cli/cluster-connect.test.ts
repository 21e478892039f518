import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Resource } from "../api/index.ts";
import { addressOf, connectionTrust, userCaRef } from "./cluster-connect.ts";

function instance(status: Record<string, unknown>): Resource {
  return { apiVersion: "holdfast.io/v1alpha1", kind: "Instance", metadata: { name: "pg-postgresql-0", namespace: "demo" }, spec: { port: 40001 }, status };
}

describe("addressOf", () => {
  it("takes the read-write endpoint on the node the CLI talks to, wherever the instance runs", () => {
    assert.deepEqual(addressOf({ port: 40100 }, instance({ host: "127.0.42.1" }), "127.0.42.2"), { host: "127.0.42.2", port: 40100 });
  });

  it("without an endpoint, takes the instance where it listens: its node's address, loopback when none is recorded", () => {
    assert.deepEqual(addressOf(undefined, instance({ host: "127.0.42.1" }), "127.0.42.2"), { host: "127.0.42.1", port: 40001 });
    assert.deepEqual(addressOf(undefined, instance({}), "127.0.42.2"), { host: "127.0.0.1", port: 40001 });
  });
});

function cluster(component: Record<string, unknown>): Resource {
  return { apiVersion: "apps.kubeblocks.io/v1", kind: "Cluster", metadata: { name: "pg", namespace: "demo" }, spec: { componentSpecs: [{ name: "postgresql", replicas: 1, ...component }] } };
}

describe("userCaRef and connectionTrust", () => {
  it("names the Secret and key of the CA only for tls: true with issuer UserProvided (default key ca.crt)", () => {
    assert.deepEqual(userCaRef(cluster({ tls: true, issuer: { name: "UserProvided", secretRef: { name: "pg-tls" } } }), "postgresql"), { secret: "pg-tls", key: "ca.crt" });
    assert.deepEqual(userCaRef(cluster({ tls: true, issuer: { name: "UserProvided", secretRef: { name: "pg-tls", ca: "root.pem" } } }), "postgresql"), { secret: "pg-tls", key: "root.pem" });
    assert.equal(userCaRef(cluster({ tls: true, issuer: { name: "KubeBlocks" } }), "postgresql"), undefined);
    assert.equal(userCaRef(cluster({ tls: true }), "postgresql"), undefined);
    assert.equal(userCaRef(cluster({ tls: true, issuer: { name: "UserProvided", secretRef: { name: "pg-tls" } } }), "other"), undefined);
  });

  it("verifies with a copy of the user's CA, rewritten when it changes; else with the CA the CLI trusts", async () => {
    const home = await mkdtemp(join(tmpdir(), "hf-connect-ca-"));
    try {
      const userCa = { component: "demo/pg/postgresql", pem: "-----BEGIN CERTIFICATE-----\nA\n-----END CERTIFICATE-----\n" };
      const trust = connectionTrust({ userCa }, home);
      assert.equal(trust.caFile, join(home, "client-ca", "demo.pg.postgresql.crt"));
      assert.equal(await readFile(trust.caFile, "utf8"), userCa.pem);
      connectionTrust({ userCa: { ...userCa, pem: "rotated" } }, home);
      assert.equal(await readFile(trust.caFile, "utf8"), "rotated");
      assert.notEqual(connectionTrust({}, home).caFile, trust.caFile);
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });
});
