/**
 * Issue 12, the lab of hosts and done-when 5: `npm run lab -- up --hosts 3` makes three hosts (network namespaces on
 * 10.213.7.0/24, or on the lab network HOLDFAST_TEST_LAB_NETWORK names) with a 3-member etcd and a Holdfast node each,
 * and prints where everything is; every host's API answers from the others' namespaces; the administrator logs in
 * with the files the lab wrote; a cluster made through host 2 runs; `npm run lab -- down` leaves no namespace, process,
 * mount, OS user or directory behind, also after an `up` killed half-way.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, readlinkSync, statSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { clusterUsersOf, HOLDFAST, Lab, listNamespaces, type LabDescription } from "../../src/lab/index.ts";
import { lookupUser } from "../../src/runtime/index.ts";
import { base32Decode, totpAt } from "../../src/security/index.ts";
import { eventually, REPO, run } from "../helpers/harness.ts";
import { labSkipReason } from "../helpers/lab-skip.ts";
import { testLabNetwork } from "../helpers/lab-network.ts";

const LAB_SCRIPT = join(REPO, "scripts", "lab.ts");
const network = testLabNetwork();
const HOSTS = [1, 2, 3].map((i) => `${network.prefix}${i}`);
/** The start of every address on the lab network: `10.213.7.` on network 1. */
const SUBNET = `${network.subnetPrefix}.`;
const address = (i: number): string => `${network.subnetPrefix}.${10 + i}`;

const skip = await labSkipReason(network);

/** `node scripts/lab.ts ARGS` (what `npm run lab -- ARGS` runs). */
function labScript(args: string[], timeoutMs = 600_000): ReturnType<typeof run> {
  return run(process.execPath, ["--disable-warning=ExperimentalWarning", LAB_SCRIPT, ...args], { timeoutMs });
}

/** Every process working in, run from, or naming on its command line something inside `directory` (checked here, not by the lab). */
function processesNaming(directory: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync("/proc").filter((entry) => /^\d+$/.test(entry) && Number(entry) !== process.pid)) {
    try {
      const cwd = readlinkSync(`/proc/${pid}/cwd`);
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
      if (cwd.startsWith(directory) || cmdline.includes(directory)) found.push(`${pid}: ${cmdline}`);
    } catch {
      // Gone meanwhile.
    }
  }
  return found;
}

function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) [ZX] /s.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

/** What must be gone after `down`, and is checked independently of the lab's own code. */
async function assertNothingLeft(home: string, pids: readonly number[], users: readonly string[], netnsDirExisted: boolean): Promise<void> {
  const namespaces = await listNamespaces();
  assert.deepEqual(namespaces.filter((name) => name.startsWith(network.prefix)), [], "no lab namespace is left (ip netns list)");
  assert.deepEqual(pids.filter(alive), [], "every process the lab ran is gone");
  assert.deepEqual(processesNaming(home), [], "no process works in or names the lab's home");
  const mounts = readFileSync("/proc/mounts", "utf8").split("\n").filter((line) => line.includes(home) || line.includes(network.prefix));
  assert.deepEqual(mounts, [], "nothing of the lab is mounted");
  if (!netnsDirExisted) assert.equal(existsSync("/run/netns"), false, "/run/netns, made by iproute2 for the lab, is gone again");
  assert.equal(existsSync(home), false, `${home} is removed`);
  for (const user of users) assert.equal(await lookupUser(user), undefined, `the clusters' OS user ${user} is removed`);
  const addresses = await run("ip", ["-o", "addr", "show"]);
  assert.ok(!addresses.stdout.includes(SUBNET), "the root namespace never had a lab address");
}

/** Log the CLI at `cliHome` in through `host` with the administrator's files: password on stdin, TOTP from the secret file. */
async function logInWithFiles(lab: Lab, host: string, admin: LabDescription["admin"], cliHome: string, caFile: string): Promise<void> {
  const password = (await readFile(admin.passwordFile, "utf8")).trim();
  const secret = base32Decode((await readFile(admin.totpSecretFile, "utf8")).trim());
  const api = lab.host(host).api;
  let last = "";
  // The lab logged in moments ago with this step's code, and a code works once: the next step's is accepted too. A
  // failed sign-in makes the next one wait (the server says how long), as any client would.
  for (const offset of [0, 30_000]) {
    const args = [HOLDFAST, "login", "--home", cliHome, "--server", api, "--certificate-authority", caFile, "--username", admin.username, "--password-stdin", "--totp", totpAt(secret, Date.now() + offset)];
    let result = await lab.exec(host, args, { input: `${password}\n` });
    const wait = /try again in (\d+) seconds?/.exec(result.stderr);
    if (result.code !== 0 && wait !== null) {
      await sleep(Number(wait[1]) * 1000 + 200);
      result = await lab.exec(host, args, { input: `${password}\n` });
    }
    if (result.code === 0) return;
    last = result.stderr;
    await sleep(1_200);
  }
  assert.fail(`the administrator could not log in with the lab's files: ${last}`);
}

describe("a lab of three hosts", { skip }, () => {
  let home = "";
  let lab: Lab | undefined;
  let described: LabDescription | undefined;
  let netnsDirExisted = true;
  const clientHomes: string[] = [];

  before(async () => {
    home = `/tmp/hf-lab-test-${process.pid}`;
    netnsDirExisted = existsSync("/run/netns");
    const started = performance.now();
    const up = await labScript(["up", "--hosts", "3", "--home", home, "--network", String(network.number)]);
    assert.equal(up.code, 0, `lab up failed:\n${up.stderr}`);
    console.log(`lab up --hosts 3 took ${((performance.now() - started) / 1000).toFixed(1)} s`);
    described = JSON.parse(up.stdout) as LabDescription;
    lab = Lab.open(home);
  });

  after(async () => {
    // Whatever happened above: nothing of the lab may outlive the test.
    if (home !== "" && Lab.exists(home)) await Lab.down(home);
    for (const directory of clientHomes) await rm(directory, { recursive: true, force: true });
  });

  test("up prints the hosts, the etcd members and the administrator's 0600 files", async () => {
    assert.ok(described);
    assert.deepEqual(
      described.hosts.map((host) => [host.name, host.namespace, host.address, host.api, host.home]),
      HOSTS.map((name, i) => [name, name, address(i + 1), `https://${address(i + 1)}:7420`, join(home, "hosts", name)]),
    );
    assert.deepEqual(
      described.etcd.map((member) => [member.namespace, member.clientUrl]),
      HOSTS.map((name, i) => [name, `http://${address(i + 1)}:2379`]),
    );
    assert.equal(described.admin.username, "admin");
    for (const file of [described.admin.passwordFile, described.admin.totpSecretFile]) {
      assert.equal(statSync(file).mode & 0o777, 0o600, `${file} is 0600`);
      assert.ok(readFileSync(file, "utf8").trim().length >= 16, `${file} holds the secret`);
    }
    const namespaces = await listNamespaces();
    for (const name of [...HOSTS, network.namespace]) assert.ok(namespaces.includes(name), `namespace ${name} exists`);
    const root = await run("ip", ["-o", "addr", "show"]);
    assert.ok(!root.stdout.includes(SUBNET), "the root namespace has no address on the lab network");
    const inside = await lab!.exec(HOSTS[1]!, ["ip", "-o", "-4", "addr", "show"]);
    assert.match(inside.stdout, /\blo\b.*127\.0\.0\.1\/8/, "loopback is up inside the host");
    assert.ok(inside.stdout.split("\n").some((line) => line.includes("eth0") && line.includes(`${address(2)}/24`)), "the host has its address inside its namespace");
  });

  test("the administrator logs in with the files, and every host's API answers from inside the other hosts", async () => {
    assert.ok(lab && described);
    const cliHome = await mkdtemp(join("/tmp", "hf-lab-client-"));
    clientHomes.push(cliHome);
    const caFile = join(described.hosts[0]!.home, "tls", "ca.crt");
    await logInWithFiles(lab, HOSTS[1]!, described.admin, cliHome, caFile);
    for (const from of HOSTS) {
      for (const to of described.hosts.filter((host) => host.name !== from)) {
        const whoami = await lab.exec(from, [HOLDFAST, "auth", "whoami", "--home", cliHome, "--server", to.api]);
        assert.equal(whoami.code, 0, `${from} → ${to.api}: ${whoami.stderr}`);
        assert.match(whoami.stdout, /admin/, `${from} → ${to.api} knows the session`);
      }
    }
    const status = await lab.status();
    assert.deepEqual(status.map((host) => [host.name, host.namespace, host.linkUp, host.apiReady, host.processes.every((p) => p.alive)]), HOSTS.map((name) => [name, true, true, true, true]));
  });

  test("holdfast get nodes shows the three hosts' nodes Ready, at their addresses", async () => {
    assert.ok(lab);
    const listed = await lab.holdfast(3, ["get", "nodes", "-o", "json"]);
    assert.equal(listed.code, 0, listed.stderr);
    const nodes = (JSON.parse(listed.stdout) as { items: { metadata: { name: string }; status?: { conditions?: { type: string; status: string }[]; addresses?: unknown } }[] }).items;
    assert.deepEqual(nodes.map((node) => node.metadata.name).sort(), HOSTS);
    for (const node of nodes) assert.ok(node.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"), `${node.metadata.name} is Ready`);
    const table = (await lab.holdfast(1, ["get", "nodes"])).stdout;
    for (const [i, name] of HOSTS.entries()) {
      const row = table.split("\n").find((line) => line.startsWith(`${name} `)) ?? "";
      assert.deepEqual([row.split(/\s+/)[1], row.includes(` ${address(i + 1)} `)], ["True", true], table);
    }
  });

  test("a standalone PostgreSQL cluster created through host 2 is Running and answers psql on its host", async () => {
    assert.ok(lab);
    const created = await lab.holdfast(2, ["cluster", "create", "lab-pg", "--engine", "postgresql"]);
    assert.equal(created.code, 0, created.stderr);
    const waited = await lab.holdfast(2, ["wait", "cluster/lab-pg", "--for=phase=Running", "--timeout=180s"], { timeoutMs: 200_000 });
    assert.equal(waited.code, 0, waited.stderr);
    const instance = JSON.parse((await lab.holdfast(2, ["get", "instance", "lab-pg-postgresql-0", "-o", "json"])).stdout) as { spec: { nodeName?: string } };
    const node = instance.spec.nodeName;
    assert.ok(node !== undefined && HOSTS.includes(node), `the instance is bound to a lab node (${String(node)})`);
    const uri = (await lab.holdfast(2, ["cluster", "connect", "lab-pg", "--show-uri"])).stdout.trim();
    const answer = await eventually("psql on the instance's host", async () => {
      const result = await lab!.exec(node, ["psql", uri, "-tAc", "select 40 + 2"], { timeoutMs: 30_000 });
      return result.code === 0 ? result.stdout.trim() : undefined;
    });
    assert.equal(answer, "42");
    console.log(`lab-pg runs on ${node}; psql answered there`);
  });

  test("a host cut off is unreachable from the others but runs on; healed, it answers; killed, all its processes are gone; restarted, it serves", async () => {
    assert.ok(lab);
    const host3 = lab.host(3);
    // A TCP connect to host 3's API port, with a deadline: 0 when it connects, 124 when nothing answers in time.
    const probe = (from: number): Promise<number> => lab!.exec(from, ["timeout", "3", "bash", "-c", `exec 3<>/dev/tcp/${host3.address}/7420`]).then((r) => r.code);
    assert.equal(await probe(2), 0, "host 2 reaches host 3");
    await lab.cutHost(3);
    assert.equal(await probe(2), 124, "cut off: host 2's connection attempt to host 3 gets no answer (dropped, not refused)");
    assert.equal(await probe(3), 0, "host 3 still reaches its own API");
    assert.equal((await lab.status()).find((host) => host.name === HOSTS[2])?.linkUp, false);
    await lab.healHost(3);
    assert.equal(await eventually("host 3 reachable again", async () => ((await probe(2)) === 0 ? 0 : undefined), 30_000), 0);

    const killed = await lab.killHost(3);
    assert.ok(killed.length >= 2, `host 3's node and etcd member were killed: ${killed.join(", ")}`);
    assert.deepEqual(killed.filter(alive), [], "every process of host 3 is gone at once");
    const down3 = (await lab.status()).find((host) => host.name === HOSTS[2]);
    assert.deepEqual([down3?.apiReady, down3?.processes.some((p) => p.alive)], [false, false]);
    assert.equal((await lab.holdfast(2, ["get", "nodes"])).code, 0, "the other hosts keep serving with 2 of 3 etcd members");
    await lab.restartHost(3);
    const back = (await lab.status()).find((host) => host.name === HOSTS[2]);
    assert.deepEqual([back?.apiReady, back?.processes.every((p) => p.alive)], [true, true]);
    const whoami = await lab.holdfast(3, ["auth", "whoami"]);
    assert.equal(whoami.code, 0, whoami.stderr);
  });

  test("down leaves no namespace, process, mount, OS user or directory; a second down has nothing to do", async () => {
    assert.ok(lab);
    const pids = await lab.pids();
    assert.ok(pids.length >= 6, `the lab runs processes (etcd, nodes, databases): ${pids.length}`);
    const users = new Set<string>();
    for (const host of lab.hosts) for (const user of await clusterUsersOf(host.home)) users.add(user);
    assert.ok(users.size >= 1, "the PostgreSQL cluster has its OS user");
    const started = performance.now();
    const down = await labScript(["down", "--home", home]);
    assert.equal(down.code, 0, down.stderr);
    console.log(`lab down took ${((performance.now() - started) / 1000).toFixed(1)} s`);
    await assertNothingLeft(home, pids, [...users], netnsDirExisted);
    const again = await labScript(["down", "--home", home]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /nothing to do/);
  });
});

describe("down after an up that was killed half-way", { skip }, () => {
  const home = `/tmp/hf-lab-crash-${process.pid}`;

  after(async () => {
    if (Lab.exists(home)) await Lab.down(home);
  });

  test("SIGKILL of up while its etcd and first node start; down removes what it had made", async () => {
    const netnsDirExisted = existsSync("/run/netns");
    const up = spawn(process.execPath, ["--disable-warning=ExperimentalWarning", LAB_SCRIPT, "up", "--hosts", "2", "--home", home, "--network", String(network.number)], { stdio: "ignore" });
    // Until etcd runs and the first node is being made: namespaces, processes and homes exist, nothing is finished.
    await eventually("the lab's etcd running", () => Promise.resolve(Lab.exists(home) && Lab.open(home).state.processes.some((p) => p.kind === "etcd") && existsSync(join(home, "hosts")) ? true : undefined), 180_000);
    up.kill("SIGKILL");
    await new Promise((resolve) => up.once("exit", resolve));
    await sleep(500);
    const lab = Lab.open(home);
    assert.notEqual(lab.state.phase, "up");
    const pids = await lab.pids();
    assert.ok(pids.length >= 1, "the killed up left processes behind for down to stop");
    const down = await labScript(["down", "--home", home]);
    assert.equal(down.code, 0, down.stderr);
    await assertNothingLeft(home, pids, [], netnsDirExisted);
  });
});
