import { test } from "node:test";
import assert from "node:assert/strict";
import { parameterPolicy, parameterProblem, rollingOrder } from "./parameter-schema.ts";
import { POSTGRESQL_PARAMETERS } from "./postgresql/parameter-schema.ts";
import { REDIS_PARAMETERS } from "./redis/parameter-schema.ts";
import { MARIADB_PARAMETERS } from "./mariadb/parameter-schema.ts";

test("a bad value, an unknown name and an immutable parameter are each refused naming the parameter", () => {
  assert.match(parameterProblem(POSTGRESQL_PARAMETERS, "max_connections", "5") ?? "", /^max_connections: 5 is below the minimum 10/);
  assert.match(parameterProblem(POSTGRESQL_PARAMETERS, "shared_buffers", "lots") ?? "", /^shared_buffers: "lots" is not a valid size/);
  assert.match(parameterProblem(POSTGRESQL_PARAMETERS, "no_such_thing", "1") ?? "", /^no_such_thing: not a parameter/);
  assert.match(parameterProblem(POSTGRESQL_PARAMETERS, "archive_command", "cp %p /x") ?? "", /^archive_command: cannot be changed: Holdfast archives WAL itself/);
  assert.match(parameterProblem(REDIS_PARAMETERS, "appendonly", "no") ?? "", /^appendonly: cannot be changed/);
  assert.match(parameterProblem(MARIADB_PARAMETERS, "innodb_buffer_pool_size", "1X") ?? "", /^innodb_buffer_pool_size: "1X" is not a valid size/);
  assert.equal(parameterProblem(MARIADB_PARAMETERS, "innodb_buffer_pool_size", "256M"), undefined);
  assert.equal(parameterProblem(MARIADB_PARAMETERS, "max_connections", "151"), undefined);
  assert.equal(parameterProblem(POSTGRESQL_PARAMETERS, "work_mem", null), undefined, "null puts a parameter back to its default");
  assert.equal(parameterPolicy(REDIS_PARAMETERS, "maxmemory"), "dynamic");
  assert.equal(parameterPolicy(POSTGRESQL_PARAMETERS, "shared_buffers"), "static");
});

test("the sizes MariaDB's memory sizing writes pass its own schema", () => {
  for (const value of ["32M", "512M", "2048M"]) assert.equal(parameterProblem(MARIADB_PARAMETERS, "innodb_buffer_pool_size", value), undefined, value);
});

test("rollingOrder: raising a replica-floor parameter goes replicas first, lowering it primary first", () => {
  const schema = POSTGRESQL_PARAMETERS;
  assert.equal(rollingOrder(schema, { max_connections: "56" }, { max_connections: "112" }), "replicas-first");
  assert.equal(rollingOrder(schema, { max_connections: "225" }, { max_connections: "112" }), "primary-first");
  assert.equal(rollingOrder(schema, { max_connections: "112" }, { max_connections: "112", shared_buffers: "512MB" }), "replicas-first");
  assert.equal(rollingOrder(schema, { max_locks_per_transaction: "128" }, {}), "primary-first", "removed: back to the default 64, lower");
  assert.equal(rollingOrder(schema, {}, { max_connections: "200" }), "replicas-first", "set above the default 100");
  assert.equal(rollingOrder(schema, {}, { max_connections: "50" }), "primary-first", "set below the default 100");
  assert.equal(rollingOrder(schema, { max_connections: "56", max_worker_processes: "16" }, { max_connections: "112", max_worker_processes: "8" }), "primary-first", "one up, one down: the down one decides");
  assert.equal(rollingOrder(schema, { max_connections: "many" }, { max_connections: "112" }), "primary-first", "what cannot be compared counts as lowered");
});

test("rollingOrder: a parameter that is no replica floor never changes the order; no schema: replicas first", () => {
  assert.equal(rollingOrder(POSTGRESQL_PARAMETERS, { shared_buffers: "1GB", work_mem: "64MB" }, { shared_buffers: "128MB", work_mem: "4MB" }), "replicas-first");
  assert.equal(rollingOrder(REDIS_PARAMETERS, { maxmemory: "1000000" }, { maxmemory: "10" }), "replicas-first");
  assert.equal(rollingOrder(undefined, { max_connections: "225" }, { max_connections: "112" }), "replicas-first");
});
