import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { departedReplicas } from "./sentinel-forget.ts";

const view = (port: number, flags: string[], host = "127.0.0.1"): { host: string; port: number; flags: string[]; masterLinkStatus: string; offset: number; priority: number } => ({ host, port, flags, masterLinkStatus: "ok", offset: 0, priority: 100 });
const members = [{ host: "127.0.0.1", port: 7000 }, { host: "127.0.0.1", port: 7001 }];

describe("departedReplicas", () => {
  it("names replicas that are not members and are down, and nothing else", () => {
    const known = [view(7001, ["slave"]), view(7002, ["s_down", "slave"]), view(7003, ["slave", "disconnected"]), view(7004, ["slave"])];
    assert.deepEqual(departedReplicas(known, members), ["127.0.0.1:7002", "127.0.0.1:7003"], "7004 still runs (being removed): not yet");
    assert.deepEqual(departedReplicas(known.slice(0, 1), members), []);
  });

  it("tells members on different hosts apart by address", () => {
    const spread = [{ host: "10.0.0.1", port: 7000 }, { host: "10.0.0.2", port: 7000 }];
    assert.deepEqual(departedReplicas([view(7000, ["s_down"], "10.0.0.2"), view(7000, ["s_down"], "10.0.0.3")], spread), ["10.0.0.3:7000"]);
  });
});
