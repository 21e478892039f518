import { test } from "node:test";
import assert from "node:assert/strict";
import { hostname } from "node:os";
import { InvalidError } from "../errors/index.ts";
import { advertisedApiUrl, externalAddressProblem, parseNodeLabels, resolveNodeOptions } from "./node-options.ts";

test("the node name defaults to the host name and the advertise address to the listen host", () => {
  assert.deepEqual(resolveNodeOptions({ host: "127.0.0.1" }), { nodeName: hostname().toLowerCase(), advertise: "127.0.0.1" });
  assert.deepEqual(resolveNodeOptions({ host: "127.0.0.1", nodeName: "vm-2", advertise: "10.0.0.5" }), { nodeName: "vm-2", advertise: "10.0.0.5" });
});

test("a node name that is not a DNS-1123 subdomain is refused, naming the flag", () => {
  assert.throws(() => resolveNodeOptions({ host: "127.0.0.1", nodeName: "VM_2" }), (error: unknown) => error instanceof InvalidError && error.causes[0]?.field === "--node-name");
  assert.throws(() => resolveNodeOptions({ host: "127.0.0.1", advertise: "a b" }), (error: unknown) => error instanceof InvalidError && error.causes[0]?.field === "--advertise");
});

test("--external-address: an IP address that is neither loopback nor a wildcard", () => {
  assert.deepEqual(resolveNodeOptions({ host: "127.0.0.1", nodeName: "vm-2", externalAddress: "10.77.0.1" }), { nodeName: "vm-2", advertise: "127.0.0.1", externalAddress: "10.77.0.1" });
  for (const address of ["10.77.0.1", "192.0.2.10", "2001:db8::1", "fd00::5"]) assert.equal(externalAddressProblem(address), undefined, address);
  const refusals: [string, RegExp][] = [
    ["127.0.0.1", /loopback/], ["127.0.77.3", /loopback/], ["::1", /loopback/], ["0:0:0:0:0:0:0:1", /loopback/], ["::ffff:127.0.0.1", /loopback/],
    ["0.0.0.0", /wildcard/], ["::", /wildcard/], ["db.example.com", /not an IP address/], ["", /not an IP address/],
  ];
  for (const [address, why] of refusals) assert.match(externalAddressProblem(address) ?? "", why, address);
  assert.throws(() => resolveNodeOptions({ host: "127.0.0.1", externalAddress: "127.0.0.1" }), (error: unknown) => error instanceof InvalidError && error.causes[0]?.field === "--external-address");
});

test("the advertised API URL is the advertise address with the listening port", () => {
  assert.equal(advertisedApiUrl("10.0.0.5", "https://127.0.0.1:43125"), "https://10.0.0.5:43125");
  assert.equal(advertisedApiUrl("::1", "https://[::1]:7420"), "https://[::1]:7420");
});

test("--node-labels: key=value pairs as Kubernetes allows them; the hostname label is Holdfast's", () => {
  assert.deepEqual(parseNodeLabels("zone=a, disk=ssd,topology.kubernetes.io/region=eu-1,empty="), { zone: "a", disk: "ssd", "topology.kubernetes.io/region": "eu-1", empty: "" });
  assert.deepEqual(parseNodeLabels(""), {});
  const refused = (raw: string, pattern: RegExp): void => {
    assert.throws(() => parseNodeLabels(raw), (error: unknown) => error instanceof InvalidError && pattern.test(error.message) && error.causes[0]?.field === "--node-labels");
  };
  refused("zone", /write each label as key=value/);
  refused("kubernetes.io/hostname=x", /set by Holdfast to the node name/);
  refused("bad key=x", /the key must be a label key/);
  refused("zone=a b", /the value must be a label value/);
  refused(`zone=${"x".repeat(64)}`, /the value must be a label value/);
});
