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

const TLS = { certificateFile: "/srv/pg-0/tls/server.crt", keyFile: "/srv/pg-0/tls/server.key", caFile: "/srv/pg-0/tls/ca.crt" };

function rulesOf(hba: string): string[][] {
  return hba.split("\n").filter((line) => line !== "" && !line.startsWith("#")).map((line) => line.split(/\s+/));
}

describe("renderPgHba", () => {
  it("allows only SCRAM over 127.0.0.1, never trust and never the socket", () => {
    assert.deepEqual(rulesOf(renderPgHba()), [
      ["host", "all", "all", "127.0.0.1/32", "scram-sha-256"],
      ["host", "replication", "all", "127.0.0.1/32", "scram-sha-256"],
    ]);
  });

  it("with TLS: plain TCP from loopback only, clients from elsewhere over TLS, replication only from the component's instances", () => {
    const hba = renderPgHba({ tls: TLS, peerAddresses: ["10.0.0.3", "127.0.0.1", "10.0.0.2", "10.0.0.3", "fd00::7", "not-an-ip"] });
    assert.deepEqual(rulesOf(hba), [
      ["host", "all", "all", "127.0.0.1/32", "scram-sha-256"],
      ["host", "replication", "all", "127.0.0.1/32", "scram-sha-256"],
      ["hostssl", "all", "all", "0.0.0.0/0", "scram-sha-256"],
      ["hostssl", "all", "all", "::/0", "scram-sha-256"],
      ["hostssl", "replication", "all", "10.0.0.2/32", "scram-sha-256"],
      ["hostssl", "replication", "all", "10.0.0.3/32", "scram-sha-256"],
      ["hostssl", "replication", "all", "fd00::7/128", "scram-sha-256"],
    ]);
    assert.ok(rulesOf(hba).every((rule) => rule[0] === "hostssl" || rule[3] === "127.0.0.1/32"), "no plain-text rule other than loopback's");
    assert.doesNotMatch(hba, /trust|password\b|md5/);
  });

  it("serving clients in TLS only: no plain-text rule at all, loopback included", () => {
    const rules = rulesOf(renderPgHba({ tls: TLS, tlsOnly: true, peerAddresses: ["10.0.0.2"] }));
    assert.deepEqual(rules.slice(0, 2), [
      ["hostssl", "all", "all", "127.0.0.1/32", "scram-sha-256"],
      ["hostssl", "replication", "all", "127.0.0.1/32", "scram-sha-256"],
    ]);
    assert.ok(rules.every((rule) => rule[0] === "hostssl"));
    assert.deepEqual(rulesOf(renderPgHba({ tlsOnly: true }))[0]?.[0], "host", "without TLS files there is nothing to require");
  });
});

describe("renderHoldfastConf with an address and TLS", () => {
  it("listens on loopback and the node's address, with the instance's certificate, TLS 1.3 at least", () => {
    const conf = renderHoldfastConf({ ...context(), address: "10.0.0.2", tls: TLS });
    assert.match(conf, /^listen_addresses = '127\.0\.0\.1,10\.0\.0\.2'$/m);
    assert.match(conf, /^ssl = on$/m);
    assert.match(conf, /^ssl_cert_file = '\/srv\/pg-0\/tls\/server\.crt'$/m);
    assert.match(conf, /^ssl_key_file = '\/srv\/pg-0\/tls\/server\.key'$/m);
    assert.match(conf, /^ssl_min_protocol_version = 'TLSv1\.3'$/m);
  });

  it("on loopback, listens there once; the TLS settings are Holdfast's alone", () => {
    assert.match(renderHoldfastConf({ ...context(), address: "127.0.0.1" }), /^listen_addresses = '127\.0\.0\.1'$/m);
    assert.throws(() => renderHoldfastConf(context({ ssl: "off" })), InvalidError);
    assert.throws(() => renderHoldfastConf(context({ ssl_min_protocol_version: "TLSv1" })), InvalidError);
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
