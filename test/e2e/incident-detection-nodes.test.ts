/**
 * Detection on two control-plane nodes over etcd: failed logins spread over both nodes are counted together by the
 * controllers' leader and open one incident (not one per node), and the rules' state survives a change of leader:
 * failures before and after it add up.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { etcdMissing } from "../helpers/etcd.ts";
import { eventually, type TestServer } from "../helpers/harness.ts";
import { controllersLeader, TestNodes } from "../helpers/nodes.ts";

const INCIDENTS = "/apis/holdfast.io/v1/namespaces/holdfast-system/incidents";
const LOGIN = "/apis/authentication.holdfast.io/v1alpha1/login";
const skip = etcdMissing();
const nodes = new TestNodes();

interface Incident {
  metadata: { name: string };
  spec: { rule: string; subject: string };
  status?: { firings: number; evidence: { auditIDs: string[] } };
}

before(async () => {
  if (skip !== undefined) return;
  await nodes.start([
    { name: "cp1", address: "127.0.46.2" },
    { name: "cp2", address: "127.0.46.3" },
  ]);
});

after(async () => {
  await nodes.destroy();
});

async function guess(node: TestServer, username: string, times: number): Promise<void> {
  for (let i = 0; i < times; i += 1) {
    const response = await node.fetch(LOGIN, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ username, password: `wrong-${i}`, totp: "000000" }) }, null);
    assert.ok(response.status === 401 || response.status === 429, String(response.status));
    await response.body?.cancel();
  }
}

async function incidentsAbout(via: TestServer, subject: string): Promise<Incident[]> {
  return (await via.api<{ items: Incident[] }>(INCIDENTS)).items.filter((i) => i.spec.rule === "login-failures-account" && i.spec.subject === subject);
}

void test("failed logins on two nodes open one incident, with the evidence of both", { skip }, async () => {
  const cp1 = nodes.node("cp1");
  const cp2 = nodes.node("cp2");
  await cp1.ok(["user", "create", "mallory"]);
  await guess(cp1, "mallory", 6);
  await guess(cp2, "mallory", 6);
  const incident = await eventually("the incident", async () => (await incidentsAbout(cp2, "user:mallory")).find((i) => i.status !== undefined), 15_000);
  await sleep(3000);
  assert.equal((await incidentsAbout(cp1, "user:mallory")).length, 1, "one incident, seen from either node");
  const latest = (await incidentsAbout(cp1, "user:mallory"))[0];
  assert.ok((latest?.status?.evidence.auditIDs.length ?? 0) >= 10, JSON.stringify(latest?.status));
  // The evidence holds audit IDs recorded by each node.
  const idsOf = async (node: TestServer): Promise<Set<string>> =>
    new Set((JSON.parse(await node.ok(["audit", "list", "--user", "mallory", "--local", "--home", node.home, "--limit", "100", "-o", "json"])) as { items: { auditID: string }[] }).items.map((e) => e.auditID));
  const [on1, on2] = [await idsOf(cp1), await idsOf(cp2)];
  const evidence = latest?.status?.evidence.auditIDs ?? [];
  assert.ok(evidence.some((id) => on1.has(id)) && evidence.some((id) => on2.has(id)), "evidence from both nodes");
  assert.equal(incident.spec.rule, "login-failures-account");
});

void test("the rules' state survives a change of leader: failures before and after it add up to one incident", { skip }, async () => {
  const cp1 = nodes.node("cp1");
  await cp1.ok(["user", "create", "victor"]);
  const leaderName = (await controllersLeader(cp1)) ?? assert.fail("no leader");
  const leader = nodes.node(leaderName);
  const other = nodes.node(leaderName === "cp1" ? "cp2" : "cp1");
  await guess(leader, "victor", 5);
  // Below the threshold: nothing yet.
  await sleep(2000);
  assert.equal((await incidentsAbout(other, "user:victor")).length, 0);
  await leader.stop();
  await eventually("the other node leads", async () => ((await controllersLeader(other)) === (leaderName === "cp1" ? "cp2" : "cp1") ? true : undefined), 90_000);
  await guess(other, "victor", 5);
  const incident = await eventually("the incident after the change of leader", async () => (await incidentsAbout(other, "user:victor")).find((i) => i.status !== undefined), 20_000);
  assert.ok((incident.status?.evidence.auditIDs.length ?? 0) >= 10, "the failures before the change count");
});
