import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Cluster } from "../../api/index.ts";
import { builtinEngines } from "../../engines/index.ts";
import { desiredPolicies } from "./reconciler.ts";

const engines = builtinEngines();
const lookup = { list: () => engines, find: (name: string) => engines.find((e) => e.name === name) };

function cluster(clusterDef: string, topology: string | undefined, components: string[]): Cluster {
  return {
    apiVersion: "apps.kubeblocks.io/v1",
    kind: "Cluster",
    metadata: { name: "c", namespace: "demo", uid: "u" },
    spec: { clusterDef, ...(topology === undefined ? {} : { topology }), terminationPolicy: "Delete", componentSpecs: components.map((name) => ({ name, replicas: 1 })) },
  };
}

describe("desiredPolicies", () => {
  it("gives each data component a policy named as KubeBlocks names it", () => {
    const names = desiredPolicies(cluster("postgresql", "replication", ["postgresql"]), lookup).map((p) => p.metadata.name);
    assert.deepEqual(names, ["c-postgresql-backup-policy"]);
  });

  it("gives Redis Sentinel, an arbiter without data, none", () => {
    const names = desiredPolicies(cluster("redis", "replication", ["redis", "redis-sentinel"]), lookup).map((p) => p.metadata.name);
    assert.deepEqual(names, ["c-redis-backup-policy"]);
  });

  it("names the engine's backup account when it has one (MariaDB), else the administrator, and lists every method", () => {
    const [mariadb] = desiredPolicies(cluster("mariadb", "standalone", ["mariadb"]), lookup);
    assert.ok(mariadb !== undefined);
    assert.equal(mariadb.spec.target?.connectionCredential?.secretName, "c-mariadb-account-kbdataprotection");
    assert.deepEqual(mariadb.spec.backupMethods.map((m) => m.name), ["mariabackup", "mariadb-dump", "archive-binlog"]);
    const [postgresql] = desiredPolicies(cluster("postgresql", "replication", ["postgresql"]), lookup);
    assert.equal(postgresql?.spec.target?.connectionCredential?.secretName, "c-postgresql-account-postgres");
  });
});
