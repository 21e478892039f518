import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { ArbiterGroup } from "../types.ts";
import { sentinelMasterName, sentinelSettingsFor } from "./sentinel-arbiter.ts";

const account = { username: "x", password: "p" };
const group: ArbiterGroup = {
  name: "redis-replication-redis",
  members: [{ name: "m-0", host: "127.0.0.1", port: 7000 }, { name: "m-1", host: "127.0.0.1", port: 7001 }],
  arbiters: [{ name: "s-0", host: "127.0.0.1", port: 7100 }, { name: "s-1", host: "127.0.0.1", port: 7101 }, { name: "s-2", host: "127.0.0.1", port: 7102 }],
  lastKnownPrimary: "m-1",
  credentials: { admin: account, replication: account, arbiter: account, arbiterAdmin: account },
};

describe("sentinelMasterName", () => {
  it("is the group's name when Sentinel accepts it", () => {
    assert.equal(sentinelMasterName("redis-replication-redis"), "redis-replication-redis");
  });

  it("is shortened with a digest past 64 characters, distinct per group", () => {
    const long = `${"a".repeat(63)}-redis`;
    const name = sentinelMasterName(long);
    assert.ok(name.length <= 64);
    assert.match(name, /^a+-[0-9a-f]{16}$/);
    assert.notEqual(name, sentinelMasterName(`${"a".repeat(63)}-other`));
  });
});

describe("sentinelSettingsFor", () => {
  it("monitors the last known primary with a majority quorum over the group's ports", () => {
    const settings = sentinelSettingsFor(group);
    assert.equal(settings.masterName, "redis-replication-redis");
    assert.equal(settings.initialMasterPort, 7001);
    assert.deepEqual(settings.instancePorts, [7000, 7001]);
    assert.deepEqual(settings.sentinelPorts, [7100, 7101, 7102]);
    assert.equal(settings.quorum, 2);
  });
});
