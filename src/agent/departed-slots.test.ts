import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createPostgresqlEngine } from "../engines/index.ts";
import { departedReplicas } from "./departed-slots.ts";

const replication = createPostgresqlEngine().replication ?? assert.fail("postgresql has a replication capability");
const replicaName = (instance: string): string => replication.replicaName(instance);

describe("departedReplicas", () => {
  it("names the instances of the component whose slots remain but which are no longer members", () => {
    const kept = ["pg_postgresql_1", "pg_postgresql_2", "pg_postgresql_3", "someone_elses_slot", "pg_redis_1"];
    assert.deepEqual(departedReplicas("pg", "postgresql", kept, ["pg-postgresql-0", "pg-postgresql-1"], replicaName), ["pg-postgresql-2", "pg-postgresql-3"]);
  });

  it("nothing when every slot belongs to a member", () => {
    assert.deepEqual(departedReplicas("pg", "postgresql", ["pg_postgresql_1"], ["pg-postgresql-0", "pg-postgresql-1", "pg-postgresql-2"], replicaName), []);
  });
});
