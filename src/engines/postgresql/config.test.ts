import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { INCLUDE_LINE, renderHoldfastConf, renderPgHba, withInclude } from "./config.ts";
import { InvalidError } from "../../errors/index.ts";
import type { InstanceContext } from "../types.ts";

function context(parameters: Record<string, string> = {}): InstanceContext {
  return {
    instanceName: "pg-0",
    rootDirectory: "/srv/pg-0",
    dataDirectory: "/srv/pg-0/data",
    runDirectory: "/srv/pg-0/run",
    port: 54321,
    version: { version: "15.18", major: "15", binDir: "/usr/lib/postgresql/15/bin" },
    parameters,
    role: "primary",
  };
}

describe("renderHoldfastConf", () => {
  it("listens on loopback TCP only, with SCRAM and replication-ready WAL", () => {
    const conf = renderHoldfastConf(context());
    assert.match(conf, /^listen_addresses = '127\.0\.0\.1'$/m);
    assert.match(conf, /^port = 54321$/m);
    assert.match(conf, /^unix_socket_directories = ''$/m);
    assert.match(conf, /^password_encryption = 'scram-sha-256'$/m);
    assert.match(conf, /^logging_collector = off$/m);
    assert.match(conf, /^wal_level = 'replica'$/m);
    assert.match(conf, /^hot_standby = on$/m);
  });

  it("appends parameters, quoted", () => {
    const conf = renderHoldfastConf(context({ shared_buffers: "128MB", application_name: "it's" }));
    assert.match(conf, /^shared_buffers = '128MB'$/m);
    assert.match(conf, /^application_name = 'it''s'$/m);
  });

  it("refuses parameters Holdfast owns, bad names and line breaks, naming each field", () => {
    assert.throws(
      () => renderHoldfastConf(context({ port: "5432", "bad name": "x", work_mem: "1MB\nport = 1" })),
      (error: unknown) =>
        error instanceof InvalidError &&
        error.causes.map((c) => c.field).join(",") === "parameters.port,parameters.bad name,parameters.work_mem",
    );
  });
});

describe("renderPgHba", () => {
  it("allows only SCRAM over 127.0.0.1, never trust and never the socket", () => {
    const rules = renderPgHba().split("\n").filter((line) => line !== "" && !line.startsWith("#"));
    assert.deepEqual(rules.map((line) => line.split(/\s+/)), [
      ["host", "all", "all", "127.0.0.1/32", "scram-sha-256"],
      ["host", "replication", "all", "127.0.0.1/32", "scram-sha-256"],
    ]);
  });
});

describe("withInclude", () => {
  it("appends the include once", () => {
    const once = withInclude("max_connections = 100");
    assert.ok(once.startsWith("max_connections = 100\n"));
    assert.ok(once.trimEnd().endsWith(INCLUDE_LINE));
    assert.equal(withInclude(once), once);
  });
});
