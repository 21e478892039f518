import { test } from "node:test";
import assert from "node:assert/strict";
import { parameterPolicy, parameterProblem } from "./parameter-schema.ts";
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
