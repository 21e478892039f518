import { test } from "node:test";
import assert from "node:assert/strict";
import { InvalidError } from "../../errors/index.ts";
import { mariadbParametersFor } from "./parameters.ts";

void test("the buffer pool is half the memory limit in whole MiB, connections from the rest", () => {
  assert.deepEqual(mariadbParametersFor({ limits: { memory: "0.5Gi" } }), { innodb_buffer_pool_size: "256M", max_connections: "21" });
  assert.deepEqual(mariadbParametersFor({ limits: { memory: "1Gi" } }), { innodb_buffer_pool_size: "512M", max_connections: "42" });
  assert.deepEqual(mariadbParametersFor({ limits: { memory: "100Mi" } }), { innodb_buffer_pool_size: "50M", max_connections: "10" });
});

void test("a tiny limit keeps the 32 MiB floor; no limit leaves MariaDB's defaults; a bad quantity names the field", () => {
  assert.equal(mariadbParametersFor({ limits: { memory: "16Mi" } })["innodb_buffer_pool_size"], "32M");
  assert.deepEqual(mariadbParametersFor(undefined), {});
  assert.deepEqual(mariadbParametersFor({ requests: { memory: "1Gi" } }), {});
  assert.throws(() => mariadbParametersFor({ limits: { memory: "lots" } }), InvalidError);
});
