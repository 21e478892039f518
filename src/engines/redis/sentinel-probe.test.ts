import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { RespError } from "./resp.ts";
import { agreedMaster, fieldPairs, parseMasterAddress, parseSentinelReplica } from "./sentinel-probe.ts";

describe("parseMasterAddress", () => {
  it("reads the port of [host, port], and nothing from a null reply", () => {
    assert.equal(parseMasterAddress(["127.0.0.1", "7103"]), 7103);
    assert.equal(parseMasterAddress(null), undefined);
    assert.equal(parseMasterAddress(new RespError("ERR")), undefined);
  });
});

describe("parseSentinelReplica", () => {
  it("reads flags, link, offset and priority", () => {
    const reply = ["name", "127.0.0.1:7102", "ip", "127.0.0.1", "port", "7102", "flags", "slave,s_down", "master-link-status", "err", "slave-priority", "0", "slave-repl-offset", "3890"];
    assert.deepEqual(parseSentinelReplica(reply), { host: "127.0.0.1", port: 7102, flags: ["slave", "s_down"], masterLinkStatus: "err", offset: 3890, priority: 0 });
    assert.equal(parseSentinelReplica(["name", "x"]), undefined);
  });
});

describe("fieldPairs", () => {
  it("skips non-string entries and a dangling key", () => {
    assert.deepEqual([...fieldPairs(["a", "1", "b", 2, "c"])], [["a", "1"]]);
  });
});

describe("agreedMaster", () => {
  it("needs more than half of all Sentinels, answering or not", () => {
    assert.equal(agreedMaster([7101, 7101, 7102], 3), 7101);
    assert.equal(agreedMaster([7101, undefined, undefined], 3), undefined);
    assert.equal(agreedMaster([7101, 7102, undefined], 3), undefined);
    assert.equal(agreedMaster([7101, 7101], 4), undefined);
  });
});
