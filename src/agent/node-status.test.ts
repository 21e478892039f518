import { test } from "node:test";
import assert from "node:assert/strict";
import type { Node } from "../api/index.ts";
import { heartbeatStatus, type NodeFacts } from "./node-status.ts";

const facts: NodeFacts = {
  advertise: "10.0.0.5",
  apiUrl: "https://10.0.0.5:7420",
  hostname: "vm1",
  cpus: 2,
  memoryBytes: 8 * 2 ** 30,
  homeDiskBytes: 100 * 2 ** 30,
  engines: [{ name: "postgresql", versions: ["16.4"] }],
  holdfastVersion: "0.1.0",
  operatingSystem: "linux",
  architecture: "x64",
};

test("a heartbeat reports the machine, the time, and Ready=True; the transition time stays while it stays Ready", () => {
  const first = heartbeatStatus(undefined, facts, "2026-12-05T12:00:00.000Z");
  assert.deepEqual(first.addresses, [{ type: "Advertise", address: "10.0.0.5" }, { type: "APIServer", address: "https://10.0.0.5:7420" }, { type: "Hostname", address: "vm1" }]);
  assert.deepEqual(first.capacity, { cpus: 2, memoryBytes: 8 * 2 ** 30, homeDiskBytes: 100 * 2 ** 30 });
  assert.equal(first.heartbeatTime, "2026-12-05T12:00:00.000Z");
  assert.deepEqual(first.conditions?.map((c) => [c.type, c.status, c.reason, c.lastTransitionTime]), [["Ready", "True", "NodeAgentReady", "2026-12-05T12:00:00.000Z"]]);
  const node = { status: first } as Pick<Node, "status">;
  const second = heartbeatStatus(node, facts, "2026-12-05T12:00:05.000Z");
  assert.equal(second.heartbeatTime, "2026-12-05T12:00:05.000Z");
  assert.equal(second.conditions?.[0]?.lastTransitionTime, "2026-12-05T12:00:00.000Z");
});

test("a node with an external address reports it as ExternalIP", () => {
  const status = heartbeatStatus(undefined, { ...facts, externalAddress: "10.77.0.1" }, "2026-12-05T12:00:00.000Z");
  assert.deepEqual(status.addresses?.find((a) => a.type === "ExternalIP"), { type: "ExternalIP", address: "10.77.0.1" });
  assert.equal(heartbeatStatus(undefined, facts, "2026-12-05T12:00:00.000Z").addresses?.some((a) => a.type === "ExternalIP"), false);
});

test("a heartbeat after the node was marked not Ready makes it Ready again, from now", () => {
  const marked = { status: { conditions: [{ type: "Ready", status: "False" as const, reason: "NodeStatusUnknown", message: "stopped", lastTransitionTime: "2026-12-05T11:00:00.000Z" }] } };
  const status = heartbeatStatus(marked, { ...facts, apiUrl: undefined }, "2026-12-05T12:00:00.000Z");
  assert.deepEqual(status.conditions?.map((c) => [c.status, c.lastTransitionTime]), [["True", "2026-12-05T12:00:00.000Z"]]);
  assert.equal(status.addresses?.some((a) => a.type === "APIServer"), false, "no API URL before the server listens");
});
