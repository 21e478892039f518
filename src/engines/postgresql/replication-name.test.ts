import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { replicationName } from "./replication-name.ts";

const SLOT = /^[a-z0-9_]{1,63}$/;

describe("replicationName", () => {
  it("maps Kubernetes-style names losslessly", () => {
    assert.equal(replicationName("pg-cluster-postgresql-0"), "pg_cluster_postgresql_0");
    assert.equal(replicationName("pg0"), "pg0");
  });

  it("hashes names that would collide or break the slot alphabet", () => {
    const dotted = replicationName("pg.cluster-0");
    const dashed = replicationName("pg-cluster-0");
    assert.notEqual(dotted, dashed);
    assert.match(dotted, SLOT);
    assert.notEqual(replicationName("a_b"), replicationName("a-b"));
    assert.notEqual(replicationName("PG-0"), replicationName("pg-0"));
    assert.match(replicationName("PG-0"), SLOT);
  });

  it("keeps long names within 63 characters and distinct", () => {
    const long = "x".repeat(70);
    const a = replicationName(`${long}-0`);
    const b = replicationName(`${long}-1`);
    assert.match(a, SLOT);
    assert.match(b, SLOT);
    assert.notEqual(a, b);
    assert.equal(replicationName("y".repeat(63)), "y".repeat(63));
  });

  it("is stable", () => {
    assert.equal(replicationName("Ünïcode-0"), replicationName("Ünïcode-0"));
    assert.match(replicationName("Ünïcode-0"), SLOT);
  });
});
