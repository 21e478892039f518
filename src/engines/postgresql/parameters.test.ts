import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { formatPostgresSize, maxConnectionsFor, postgresqlParametersFor } from "./parameters.ts";
import { InvalidError } from "../../errors/index.ts";

describe("postgresqlParametersFor", () => {
  it("returns PostgreSQL's defaults (nothing) without a memory limit", () => {
    assert.deepEqual(postgresqlParametersFor(undefined), {});
    assert.deepEqual(postgresqlParametersFor({ limits: { cpu: "1" } }), {});
    assert.deepEqual(postgresqlParametersFor({ requests: { memory: "1Gi" } }), {});
  });

  it("sizes a 0.5Gi instance", () => {
    assert.deepEqual(postgresqlParametersFor({ limits: { memory: "0.5Gi" } }), {
      shared_buffers: "128MB",
      effective_cache_size: "384MB",
      maintenance_work_mem: "32MB",
      work_mem: "3510kB",
      max_connections: "56",
    });
  });

  it("sizes a 1Gi instance", () => {
    assert.deepEqual(postgresqlParametersFor({ limits: { memory: "1Gi" } }), {
      shared_buffers: "256MB",
      effective_cache_size: "768MB",
      maintenance_work_mem: "64MB",
      work_mem: "3510kB",
      max_connections: "112",
    });
  });

  it("sizes an 8Gi instance", () => {
    assert.deepEqual(postgresqlParametersFor({ limits: { memory: "8Gi" } }), {
      shared_buffers: "2048MB",
      effective_cache_size: "6144MB",
      maintenance_work_mem: "512MB",
      work_mem: "3491kB",
      max_connections: "901",
    });
  });

  it("caps maintenance_work_mem at 2GB and max_connections at 5000", () => {
    const huge = postgresqlParametersFor({ limits: { memory: "64Gi" } });
    assert.equal(huge.maintenance_work_mem, "2048MB");
    assert.equal(postgresqlParametersFor({ limits: { memory: "256Gi" } }).max_connections, "5000");
  });

  it("keeps tiny limits within PostgreSQL's minimums", () => {
    const tiny = postgresqlParametersFor({ limits: { memory: "32Mi" } });
    assert.equal(tiny.max_connections, "10");
    assert.equal(tiny.maintenance_work_mem, "2MB");
    assert.equal(tiny.shared_buffers, "8MB");
  });

  it("reports a malformed limit against its field", () => {
    assert.throws(
      () => postgresqlParametersFor({ limits: { memory: "lots" } }),
      (error: unknown) => error instanceof InvalidError && error.causes[0]?.field === "resources.limits.memory",
    );
  });
});

describe("formatPostgresSize", () => {
  it("uses MB when exact and kB otherwise, never below the minimum", () => {
    assert.equal(formatPostgresSize(128 * 1024 * 1024), "128MB");
    assert.equal(formatPostgresSize(1536 * 1024), "1536kB");
    assert.equal(formatPostgresSize(1000), "64kB");
  });
});

describe("maxConnectionsFor", () => {
  it("clamps to 10..5000", () => {
    assert.equal(maxConnectionsFor(0), 10);
    assert.equal(maxConnectionsFor(2 ** 50), 5000);
  });
});
