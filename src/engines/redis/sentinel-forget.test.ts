import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { departedReplicaPorts } from "./sentinel-forget.ts";

const view = (port: number, flags: string[]): { port: number; flags: string[]; masterLinkStatus: string; offset: number; priority: number } => ({ port, flags, masterLinkStatus: "ok", offset: 0, priority: 100 });

describe("departedReplicaPorts", () => {
  it("names replicas that are not members and are down, and nothing else", () => {
    const known = [view(7001, ["slave"]), view(7002, ["s_down", "slave"]), view(7003, ["slave", "disconnected"]), view(7004, ["slave"])];
    assert.deepEqual(departedReplicaPorts(known, [7000, 7001]), [7002, 7003], "7004 still runs (being removed): not yet");
    assert.deepEqual(departedReplicaPorts(known.slice(0, 1), [7000, 7001]), []);
  });
});
