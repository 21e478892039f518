import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { LAB_PREFIX, MAX_HOSTS, MAX_NETWORK, NETWORK_NAMESPACE, labNetwork, namespacesOf, planLab } from "./plan.ts";

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

test("network 1 is exactly the default names and subnet", () => {
  assert.deepEqual(planLab(3, "/tmp/lab", 1), planLab(3, "/tmp/lab"));
  assert.deepEqual(labNetwork(1), { number: 1, prefix: "hf-lab-", namespace: NETWORK_NAMESPACE, bridge: "hf-lab-br", subnetPrefix: "10.213.7" });
  assert.equal(planLab(3, "/tmp/lab").network, 1);
});

test("network 2: hf-lab2- names on 10.213.8.0/24", () => {
  const plan = planLab(3, "/tmp/lab", 2);
  assert.equal(plan.network, 2);
  assert.deepEqual(
    plan.hosts.map((h) => [h.name, h.namespace, h.address, h.api, h.bridgePort]),
    [1, 2, 3].map((i) => [`hf-lab2-${i}`, `hf-lab2-${i}`, `10.213.8.${10 + i}`, `https://10.213.8.${10 + i}:7420`, `hf-lab2-v${i}`]),
  );
  assert.deepEqual(plan.etcd.map((m) => m.clientUrl), [11, 12, 13].map((n) => `http://10.213.8.${n}:2379`));
  assert.deepEqual(namespacesOf(plan), ["hf-lab2-1", "hf-lab2-2", "hf-lab2-3", "hf-lab2-net"]);
  assert.deepEqual(labNetwork(2), { number: 2, prefix: "hf-lab2-", namespace: "hf-lab2-net", bridge: "hf-lab2-br", subnetPrefix: "10.213.8" });
});

test("labs on two different networks share no name and no address; every name fits a Linux interface name", () => {
  const names = (network: number, count: number): string[] => {
    const plan = planLab(count, "/srv/lab", network);
    const { bridge } = labNetwork(network);
    return [...namespacesOf(plan), bridge, ...plan.hosts.map((h) => h.bridgePort)];
  };
  fc.assert(
    fc.property(fc.integer({ min: 1, max: MAX_NETWORK }), fc.integer({ min: 1, max: MAX_NETWORK }), fc.integer({ min: 1, max: MAX_HOSTS }), (a, b, count) => {
      fc.pre(a !== b);
      const mine = names(a, count);
      for (const name of mine) assert.ok(name.length <= 15 && name.startsWith(labNetwork(a).prefix), name);
      const theirs = new Set(names(b, MAX_HOSTS));
      assert.deepEqual(mine.filter((name) => theirs.has(name)), []);
      // Nor does one network's prefix cover the other's names: down of one lab can never delete the other's.
      assert.deepEqual(mine.filter((name) => name.startsWith(labNetwork(b).prefix)), []);
      const addresses = new Set(planLab(MAX_HOSTS, "/srv/lab", b).hosts.map((h) => h.address));
      assert.deepEqual(planLab(count, "/srv/lab", a).hosts.filter((h) => addresses.has(h.address)), []);
      for (const host of planLab(count, "/srv/lab", a).hosts) assert.ok(host.address.startsWith(`10.213.${6 + a}.`));
    }),
  );
});

test("a network outside 1..9 is refused, naming the flag", () => {
  for (const network of [0, -1, 10, 1.5, Number.NaN]) assert.throws(() => planLab(3, "/tmp/lab", network), /--network .*1 to 9/);
});
