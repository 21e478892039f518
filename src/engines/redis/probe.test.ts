import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { roleFromInfo } from "./probe.ts";

describe("roleFromInfo", () => {
  it("maps master and slave to primary and secondary", () => {
    assert.equal(roleFromInfo("# Replication\r\nrole:master\r\nconnected_slaves:0\r\n"), "primary");
    assert.equal(roleFromInfo("# Replication\r\nrole:slave\r\nmaster_host:127.0.0.1\r\n"), "secondary");
  });

  it("returns undefined for anything else", () => {
    assert.equal(roleFromInfo("# Replication\r\nconnected_slaves:0\r\n"), undefined);
    assert.equal(roleFromInfo("role:sentinel\r\n"), undefined);
  });

  it("names a Sentinel from INFO server's redis_mode", () => {
    assert.equal(roleFromInfo("", "# Server\r\nredis_version:7.0.15\r\nredis_mode:sentinel\r\n"), "sentinel");
    assert.equal(roleFromInfo("# Replication\r\nrole:master\r\n", "# Server\r\nredis_mode:standalone\r\n"), "primary");
  });
});
