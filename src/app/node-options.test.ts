import { test } from "node:test";
import assert from "node:assert/strict";
import { hostname } from "node:os";
import { InvalidError } from "../errors/index.ts";
import { advertisedApiUrl, resolveNodeOptions } from "./node-options.ts";

test("the node name defaults to the host name and the advertise address to the listen host", () => {
  assert.deepEqual(resolveNodeOptions({ host: "127.0.0.1" }), { nodeName: hostname().toLowerCase(), advertise: "127.0.0.1" });
  assert.deepEqual(resolveNodeOptions({ host: "127.0.0.1", nodeName: "vm-2", advertise: "10.0.0.5" }), { nodeName: "vm-2", advertise: "10.0.0.5" });
});

test("a node name that is not a DNS-1123 subdomain is refused, naming the flag", () => {
  assert.throws(() => resolveNodeOptions({ host: "127.0.0.1", nodeName: "VM_2" }), (error: unknown) => error instanceof InvalidError && error.causes[0]?.field === "--node-name");
  assert.throws(() => resolveNodeOptions({ host: "127.0.0.1", advertise: "a b" }), (error: unknown) => error instanceof InvalidError && error.causes[0]?.field === "--advertise");
});

test("the advertised API URL is the advertise address with the listening port", () => {
  assert.equal(advertisedApiUrl("10.0.0.5", "https://127.0.0.1:43125"), "https://10.0.0.5:43125");
  assert.equal(advertisedApiUrl("::1", "https://[::1]:7420"), "https://[::1]:7420");
});
