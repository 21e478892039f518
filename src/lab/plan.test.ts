import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { LAB_PREFIX, MAX_HOSTS, NETWORK_NAMESPACE, namespacesOf, planLab } from "./plan.ts";

test("three hosts: names, addresses, APIs, homes, and one etcd member on each", () => {
  const plan = planLab(3, "/tmp/lab");
  assert.deepEqual(
    plan.hosts.map((h) => [h.name, h.namespace, h.address, h.api, h.home, h.bridgePort]),
    [
      ["hf-lab-1", "hf-lab-1", "10.213.7.11", "https://10.213.7.11:7420", "/tmp/lab/hosts/hf-lab-1", "hf-lab-v1"],
      ["hf-lab-2", "hf-lab-2", "10.213.7.12", "https://10.213.7.12:7420", "/tmp/lab/hosts/hf-lab-2", "hf-lab-v2"],
      ["hf-lab-3", "hf-lab-3", "10.213.7.13", "https://10.213.7.13:7420", "/tmp/lab/hosts/hf-lab-3", "hf-lab-v3"],
    ],
  );
  assert.deepEqual(
    plan.etcd.map((m) => [m.name, m.namespace, m.clientUrl, m.peerUrl]),
    [
      ["etcd-1", "hf-lab-1", "http://10.213.7.11:2379", "http://10.213.7.11:2380"],
      ["etcd-2", "hf-lab-2", "http://10.213.7.12:2379", "http://10.213.7.12:2380"],
      ["etcd-3", "hf-lab-3", "http://10.213.7.13:2379", "http://10.213.7.13:2380"],
    ],
  );
  assert.deepEqual(namespacesOf(plan), ["hf-lab-1", "hf-lab-2", "hf-lab-3", NETWORK_NAMESPACE]);
});

test("etcd runs on the first min(3, N) hosts; every name is a lab name, every address distinct and inside 10.213.7.0/24", () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: MAX_HOSTS }), (count) => {
      const plan = planLab(count, "/srv/lab");
      assert.equal(plan.hosts.length, count);
      assert.deepEqual(plan.etcd.map((m) => m.host), [1, 2, 3].slice(0, Math.min(3, count)));
      for (const name of [...namespacesOf(plan), ...plan.hosts.map((h) => h.bridgePort)]) assert.ok(name.startsWith(LAB_PREFIX) && name.length <= 15, name);
      const addresses = plan.hosts.map((h) => h.address);
      assert.equal(new Set(addresses).size, count);
      for (const address of addresses) assert.match(address, /^10\.213\.7\.(1\d|2\d|30)$/);
    }),
  );
});

test("a host count outside 1..20 is refused, naming the flag", () => {
  for (const count of [0, -1, 21, 2.5, Number.NaN]) assert.throws(() => planLab(count, "/tmp/lab"), /--hosts .*1 to 20/);
});
