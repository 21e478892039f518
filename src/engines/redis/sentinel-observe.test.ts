import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { RespError } from "./resp.ts";
import { observationCommands, parseSentinelObservation } from "./sentinel-observe.ts";

const members = [{ name: "r-redis-0", host: "127.0.0.1", port: 7000 }, { name: "r-redis-1", host: "127.0.0.1", port: 7001 }];

describe("parseSentinelObservation", () => {
  it("names the master, its epoch, the quorum and the removed replicas a Sentinel still watches", () => {
    const replicas = [["ip", "127.0.0.1", "port", "7001", "flags", "slave"], ["ip", "127.0.0.1", "port", "7002", "flags", "slave,s_down"]];
    const replies = [["127.0.0.1", "7000"], ["name", "r-redis", "config-epoch", "3"], "OK 3 usable Sentinels. Quorum and failover authorization can be reached", replicas];
    assert.equal(observationCommands("r-redis").length, replies.length);
    assert.deepEqual(parseSentinelObservation(replies, members), { primary: "r-redis-0", primaryAddress: "127.0.0.1:7000", epoch: 3, quorum: true, departed: ["127.0.0.1:7002"] });
  });

  it("names no member for an address that is none, and no quorum when CKQUORUM refuses", () => {
    const replies = [["127.0.0.1", "7009"], new RespError("ERR No such master with that name"), new RespError("NOQUORUM 1 usable Sentinels"), []];
    assert.deepEqual(parseSentinelObservation(replies, members), { primary: undefined, primaryAddress: "127.0.0.1:7009", epoch: undefined, quorum: false, departed: [] });
  });

  it("tells members on different hosts with the same port apart", () => {
    const spread = [{ name: "a", host: "10.0.0.1", port: 7000 }, { name: "b", host: "10.0.0.2", port: 7000 }];
    assert.equal(parseSentinelObservation([["10.0.0.2", "7000"], null, "OK", []], spread).primary, "b");
    assert.equal(parseSentinelObservation([["10.0.0.3", "7000"], null, "OK", []], spread).primary, undefined);
  });
});
