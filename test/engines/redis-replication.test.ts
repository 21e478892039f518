/**
 * Redis replication with Sentinel against real processes run as the service user: one master, two replicas
 * and three Sentinels. Sentinel does the failover on `kill -9` (timed over several trials); a killed master
 * comes back as a replica; switchover with and without a candidate loses no acknowledged write; no password
 * reaches any process's argv or environment, and the restricted ACL users are never refused anything.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { InvalidError } from "../../src/errors/index.ts";
import { createRedisEngine, generatePassword, type EngineVersion, type InstanceContext } from "../../src/engines/index.ts";
import {
  DEFAULT_SENTINEL_TIMINGS, RespError, askRedis, askSentinels, configureRedisReplica, configureSentinel, decideRedisStartRole, probeRedisReplication,
  redisConfPath, sentinelCkquorum, sentinelConfPath, sentinelMasterFields, sentinelQuorum, sentinelReplicas, sentinelStartCommand, switchoverRedis,
  toReplicationObservation, waitForAgreedMaster, type RedisReplicationAccounts, type SentinelSettings,
} from "../../src/engines/redis/index.ts";
import { createTestHostAccess, type TestHostAccess } from "../helpers/host-access.ts";
import { ServerProcess, eventually, filesContaining, freePort, median, removeTree, runClient, traversableTempDir, waitUntil } from "./harness.ts";

const engine = createRedisEngine();
const MASTER_NAME = "redis-replication-redis";
const FAILOVER_TRIALS = 3;

/** A Redis instance or a Sentinel, and its running process if any. */
interface Node {
  layout: InstanceContext;
  server: ServerProcess | undefined;
}

describe("redis replication with sentinel", { timeout: 600_000 }, () => {
  const accounts: RedisReplicationAccounts = {
    admin: { username: "default", password: generatePassword() },
    replication: { username: "replicator", password: generatePassword() },
    sentinel: { username: "sentinel", password: generatePassword() },
  };
  const admin = accounts.admin;
  const instances: Node[] = [];
  const sentinels: Node[] = [];
  const timings: { failoverMs: number[]; firstWriteMs: number[]; convertMs: number[]; switchover: { candidate: boolean; pausedMs: number; clientGapMs: number }[] } = {
    failoverMs: [], firstWriteMs: [], convertMs: [], switchover: [],
  };
  let host: TestHostAccess;
  let root: string;
  let version: EngineVersion;
  let settings: SentinelSettings;
  // Redis and Sentinel save their config files with mode 0644 & ~umask: a private umask keeps them 0600.
  const previousUmask = process.umask(0o077);

  async function layout(name: string): Promise<InstanceContext> {
    const rootDirectory = join(root, name);
    return {
      instanceName: name, rootDirectory, dataDirectory: join(rootDirectory, "data"), runDirectory: join(rootDirectory, "run"),
      port: await freePort(), version, parameters: {}, role: "primary",
    };
  }

  const instancePorts = (): number[] => instances.map((n) => n.layout.port);
  const sentinelPorts = (): number[] => sentinels.map((n) => n.layout.port);
  const group = (): { masterName: string; sentinelPorts: number[]; instancePorts: number[] } => ({ masterName: MASTER_NAME, sentinelPorts: sentinelPorts(), instancePorts: instancePorts() });

  function instanceOn(port: number): Node {
    const found = instances.find((n) => n.layout.port === port);
    assert.ok(found, `no instance on port ${port}`);
    return found;
  }

  async function startInstance(node: Node): Promise<void> {
    node.server = new ServerProcess(host.spawnServer(engine.startCommand(node.layout), node.layout.runDirectory));
    await waitUntil(() => engine.probeReady(node.layout.port, admin), node.server, 30_000);
  }

  async function startSentinel(node: Node): Promise<void> {
    node.server = new ServerProcess(host.spawnServer(sentinelStartCommand(node.layout, version), node.layout.runDirectory));
    await waitUntil(async () => (await askSentinels([node.layout.port], admin, MASTER_NAME)).answers[0]?.masterPort !== undefined, node.server, 30_000);
  }

  async function kill(node: Node): Promise<void> {
    node.server?.signal("SIGKILL");
    await node.server?.exited;
  }

  async function agreedMaster(): Promise<number> {
    const master = (await askSentinels(sentinelPorts(), admin, MASTER_NAME)).agreedMasterPort;
    assert.ok(master !== undefined, "no majority of Sentinels names a master");
    return master;
  }

  /** Until `port` is a replica of `master` with its link up, and the Sentinels see it as a healthy replica. */
  async function waitForHealthyReplica(port: number, master: number): Promise<void> {
    await eventually(`port ${port} streaming from ${master}`, async () => {
      const info = await probeRedisReplication(port, admin);
      return info?.role === "replica" && info.masterPort === master && info.linkUp && !info.syncInProgress;
    });
    await eventually(`Sentinels seeing ${port} as a healthy replica`, async () => {
      const views = await Promise.all(sentinelPorts().map((s) => sentinelReplicas(s, admin, MASTER_NAME).catch(() => [])));
      return views.every((view) => view.some((r) => r.port === port && r.masterLinkStatus === "ok" && !r.flags.includes("s_down") && !r.flags.includes("disconnected")));
    }, 40_000);
  }

  before(async () => {
    host = await createTestHostAccess();
    root = await traversableTempDir("holdfast-redis-ha-");
    const found = engine.matchVersion(undefined, await engine.detectVersions());
    if (found === undefined) throw new Error("redis is not installed: run npm run engines:install");
    version = found;
    for (let i = 0; i < 3; i++) instances.push({ layout: await layout(`redis-${i}`), server: undefined });
    for (let i = 0; i < 3; i++) sentinels.push({ layout: await layout(`redis-sentinel-${i}`), server: undefined });
    settings = {
      ...DEFAULT_SENTINEL_TIMINGS, masterName: MASTER_NAME, initialMasterPort: instancePorts()[0]!, instancePorts: instancePorts(),
      sentinelPorts: sentinelPorts(), quorum: sentinelQuorum(3),
    };
  });

  after(async () => {
    // Whatever failed, no process outlives the test.
    await Promise.all([...instances, ...sentinels].map((n) => kill(n)));
    await removeTree(root);
    process.umask(previousUmask);
    const lines = [
      `failover (kill -9 → majority of Sentinels name a new master), ms: ${timings.failoverMs.join(", ")}; median ${median(timings.failoverMs)}`,
      `kill -9 → first write acknowledged by the new master, ms: ${timings.firstWriteMs.join(", ")}; median ${median(timings.firstWriteMs)}`,
      `stale master restarted → converted to replica by Sentinel, ms: ${timings.convertMs.join(", ")}`,
      ...timings.switchover.map((s) => `switchover ${s.candidate ? "with" : "without"} candidate: writes paused ${s.pausedMs} ms, longest gap between acknowledged client writes ${s.clientGapMs} ms`),
    ];
    if (timings.failoverMs.length > 0) console.log(lines.map((l) => `# ${l}`).join("\n"));
  });

  it("starts a master, two replicas and three Sentinels that find each other", async () => {
    const [first, ...rest] = instances;
    assert.ok(first);
    for (const node of instances) {
      await engine.initialize(node.layout, [admin], host);
      await configureRedisReplica(node.layout, accounts, { masterPort: node === first ? undefined : first.layout.port }, host);
      assert.equal((await stat(redisConfPath(node.layout))).mode & 0o777, 0o600);
    }
    await startInstance(first);
    await Promise.all(rest.map((n) => startInstance(n)));
    for (const node of sentinels) await configureSentinel(node.layout, settings, accounts, host);
    await Promise.all(sentinels.map((n) => startSentinel(n)));
    await eventually("Sentinels discovering each other and both replicas", async () => {
      const views = await Promise.all(sentinelPorts().map((s) => sentinelMasterFields(s, admin, MASTER_NAME)));
      return views.every((v) => v.get("num-other-sentinels") === "2" && v.get("num-slaves") === "2");
    });
    assert.equal(await agreedMaster(), first.layout.port);
    for (const port of sentinelPorts()) assert.deepEqual(await sentinelCkquorum(port, admin, MASTER_NAME), { ok: true, message: "OK 3 usable Sentinels. Quorum and failover authorization can be reached" });
  });

  it("replicates a key written on the master to both replicas, which refuse writes", async () => {
    const master = await agreedMaster();
    const set = await runClient(engine, master, admin, ["SET", "greeting", "hello"], { scratch: root });
    assert.equal(set.output.trim(), "OK", set.output);
    for (const replica of instancePorts().filter((p) => p !== master)) {
      await eventually(`greeting on ${replica}`, async () => (await runClient(engine, replica, admin, ["GET", "greeting"], { scratch: root })).output.trim() === "hello");
      const write = await runClient(engine, replica, admin, ["SET", "greeting", "bye"], { scratch: root });
      assert.match(write.output, /READONLY/);
    }
  });

  it("probes roles, offsets and links, in Redis' words and the engine-neutral shape", async () => {
    const master = await agreedMaster();
    const info = await probeRedisReplication(master, admin);
    assert.ok(info?.role === "master");
    assert.deepEqual(info.replicas.map((r) => r.port).sort(), instancePorts().filter((p) => p !== master).sort());
    assert.ok(info.replicas.every((r) => r.state === "online"));
    const observation = toReplicationObservation(info, (port) => instances.find((n) => n.layout.port === port)?.layout.instanceName);
    assert.equal(observation.role, "primary");
    assert.deepEqual(observation.replicas.map((r) => r.name).sort(), ["redis-1", "redis-2"]);
    for (const port of instancePorts().filter((p) => p !== master)) {
      const replica = await probeRedisReplication(port, admin);
      assert.ok(replica?.role === "replica");
      assert.equal(replica.masterPort, master);
      assert.equal(replica.linkUp, true);
      assert.equal(toReplicationObservation(replica, () => undefined).streamingFrom, master);
    }
    const wrong = { username: "default", password: generatePassword() };
    assert.equal(await probeRedisReplication(master, wrong), undefined);
    const views = await sentinelReplicas(sentinelPorts()[0]!, admin, MASTER_NAME);
    assert.deepEqual(views.map((v) => v.port).sort(), instancePorts().filter((p) => p !== master).sort());
  });

  it(`fails over on kill -9 of the master, ${FAILOVER_TRIALS} times; the old master returns as a replica`, async () => {
    for (let trial = 0; trial < FAILOVER_TRIALS; trial++) {
      const old = await agreedMaster();
      const key = `before-kill-${trial}`;
      const [, waited] = await askRedis(old, admin, [["SET", key, "kept"], ["WAIT", "2", "2000"]]);
      assert.equal(waited, 2, "both replicas acknowledged the write before the kill");
      const killedAt = Date.now();
      await kill(instanceOn(old));
      const promoted = await waitForAgreedMaster({ ports: sentinelPorts(), masterName: MASTER_NAME, admin }, (p) => p !== old, {
        timeoutMs: settings.downAfterMs + settings.failoverTimeoutMs + 10_000,
      });
      assert.ok(promoted !== undefined, `trial ${trial}: no new master within down-after + failover-timeout`);
      timings.failoverMs.push(Date.now() - killedAt);
      await eventually("a write on the new master", async () => (await askRedis(promoted, admin, [["SET", `after-kill-${trial}`, "1"]]).catch(() => []))[0] === "OK");
      timings.firstWriteMs.push(Date.now() - killedAt);
      assert.equal((await probeRedisReplication(promoted, admin))?.role, "master");
      assert.equal((await askRedis(promoted, admin, [["GET", key]]))[0], "kept");
      await restartFormerMaster(instanceOn(old), promoted, trial === 0 ? "stale" : "asked");
      for (const port of instancePorts().filter((p) => p !== promoted)) await waitForHealthyReplica(port, promoted);
    }
    assert.ok(median(timings.failoverMs) < settings.downAfterMs + settings.failoverTimeoutMs, `median failover ${median(timings.failoverMs)} ms`);
  });

  /**
   * Bring the killed master back: `stale` with the config it died with (it starts as a master and Sentinel
   * demotes it), `asked` the way a controller does (the Sentinels name the master first: it starts as a replica).
   */
  async function restartFormerMaster(node: Node, master: number, how: "stale" | "asked"): Promise<void> {
    if (how === "asked") {
      const role = await decideRedisStartRole(node.layout.port, { ports: sentinelPorts(), masterName: MASTER_NAME, admin }, undefined);
      assert.deepEqual(role, { masterPort: master, source: "sentinels" });
      await configureRedisReplica(node.layout, accounts, { masterPort: role.masterPort }, host);
    }
    const startedAt = Date.now();
    await startInstance(node);
    const first = await probeRedisReplication(node.layout.port, admin);
    if (how === "asked") assert.equal(first?.role, "replica", "started as a replica straight away");
    await eventually(`former master on ${node.layout.port} replicating from ${master}`, async () => {
      const info = await probeRedisReplication(node.layout.port, admin);
      return info?.role === "replica" && info.masterPort === master;
    }, 40_000);
    if (how === "stale") timings.convertMs.push(Date.now() - startedAt);
    await waitForHealthyReplica(node.layout.port, master);
  }

  /** Write 1, 2, 3, ... to the list `log` on whichever instance the Sentinels name, until stopped; acknowledged values and gaps. */
  function startWriter(): { stop: () => Promise<{ acked: number[]; longestGapMs: number }> } {
    let running = true;
    const acked: number[] = [];
    let longestGapMs = 0;
    const done = (async () => {
      let target = await agreedMaster();
      let last = Date.now();
      for (let i = 1; running; i++) {
        const [reply] = await askRedis(target, admin, [["RPUSH", "log", String(i)]], 20_000).catch(() => [undefined]);
        if (typeof reply === "number") {
          acked.push(i);
          longestGapMs = Math.max(longestGapMs, Date.now() - last);
          last = Date.now();
        } else {
          target = (await askSentinels(sentinelPorts(), admin, MASTER_NAME)).agreedMasterPort ?? target;
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      }
    })();
    return { stop: async () => { running = false; await done; return { acked, longestGapMs }; } };
  }

  async function switchover(candidatePort: number | undefined): Promise<{ former: number; promoted: number }> {
    await askRedis(await agreedMaster(), admin, [["DEL", "log"]]);
    const writer = startWriter();
    let result: Awaited<ReturnType<typeof switchoverRedis>>;
    try {
      await new Promise((resolve) => setTimeout(resolve, 300));
      result = await switchoverRedis({ ...group(), candidatePort }, admin);
      await new Promise((resolve) => setTimeout(resolve, 300));
    } finally {
      await writer.stop();
    }
    const { acked, longestGapMs } = await writer.stop();
    timings.switchover.push({ candidate: candidatePort !== undefined, pausedMs: result.writesPausedMs, clientGapMs: longestGapMs });
    assert.equal(result.sentinelsAgree, true);
    assert.equal(await agreedMaster(), result.newMasterPort);
    assert.equal((await probeRedisReplication(result.newMasterPort, admin))?.role, "master");
    const former = await probeRedisReplication(result.formerMasterPort, admin);
    assert.ok(former?.role === "replica" && former.masterPort === result.newMasterPort, "the former master replicates from the new one");
    const [log] = await askRedis(result.newMasterPort, admin, [["LRANGE", "log", "0", "-1"]]);
    assert.ok(Array.isArray(log));
    const stored = new Set(log);
    assert.ok(acked.length > 10, `only ${acked.length} writes acknowledged`);
    assert.deepEqual(acked.filter((i) => !stored.has(String(i))), [], "every acknowledged write is on the new master");
    for (const port of instancePorts()) {
      assert.deepEqual((await askRedis(port, admin, [["CONFIG", "GET", "replica-priority"]]))[0], ["replica-priority", "100"], `priority restored on ${port}`);
    }
    await waitForHealthyReplica(result.formerMasterPort, result.newMasterPort);
    return { former: result.formerMasterPort, promoted: result.newMasterPort };
  }

  it("switches over to a named candidate, losing no acknowledged write", async () => {
    const master = await agreedMaster();
    const candidate = instancePorts().find((p) => p !== master)!;
    const { former, promoted } = await switchover(candidate);
    assert.equal(former, master);
    assert.equal(promoted, candidate);
  });

  it("switches over without a candidate, losing no acknowledged write", async () => {
    const master = await agreedMaster();
    const { former, promoted } = await switchover(undefined);
    assert.equal(former, master);
    assert.notEqual(promoted, master);
    assert.ok(instancePorts().includes(promoted));
  });

  it("refuses the master as candidate before touching anything", async () => {
    const master = await agreedMaster();
    await assert.rejects(switchoverRedis({ ...group(), candidatePort: master }, admin), InvalidError);
    assert.equal(await agreedMaster(), master);
  });

  it("keeps every password out of the argv and environment of every process", async () => {
    const secrets = [accounts.admin.password, accounts.replication.password, accounts.sentinel.password];
    const running = [...instances, ...sentinels].filter((n) => n.server?.running);
    assert.equal(running.length, 6);
    for (const node of running) {
      const pid = node.server!.child.pid!;
      const cmdline = await readFile(`/proc/${pid}/cmdline`, "utf8");
      const environ = await readFile(`/proc/${pid}/environ`, "utf8");
      assert.match(cmdline, /redis-server/, `pid ${pid} is the server itself`);
      for (const secret of secrets) {
        assert.ok(!cmdline.includes(secret), `a password in the argv of ${node.layout.instanceName}`);
        assert.ok(!environ.includes(secret), `a password in the environment of ${node.layout.instanceName}`);
      }
    }
  });

  it("holds plaintext passwords only where Redis needs them, in files only the service user can reach", async () => {
    assert.deepEqual((await filesContaining(root, accounts.admin.password)).hits, []);
    const replication = (await filesContaining(root, accounts.replication.password)).hits;
    assert.deepEqual(replication.sort(), instances.map((n) => redisConfPath(n.layout)).sort());
    const sentinel = (await filesContaining(root, accounts.sentinel.password)).hits;
    assert.deepEqual(sentinel.sort(), sentinels.map((n) => sentinelConfPath(n.layout)).sort());
    for (const path of [...replication, ...sentinel]) {
      const info = await stat(path);
      assert.equal(info.uid, host.identity?.uid ?? process.getuid?.());
      assert.equal(info.mode & 0o777, 0o600, `${path} after Redis and Sentinel rewrote it`);
    }
    // Both kinds of file were rewritten by the servers themselves, not only written by Holdfast.
    assert.match(await readFile(redisConfPath(instances[0]!.layout), "utf8"), /^# Generated by CONFIG REWRITE$/m);
    for (const node of [...instances, ...sentinels]) {
      assert.equal((await stat(node.layout.rootDirectory)).mode & 0o077, 0, `${node.layout.rootDirectory} is private`);
    }
    // Sentinel saved its state in its file while it ran: the file stayed writable and the state is there.
    const saved = await readFile(sentinelConfPath(sentinels[0]!.layout), "utf8");
    assert.match(saved, /^sentinel myid [0-9a-f]{40}$/m);
    assert.match(saved, /^sentinel known-sentinel /m);
  });

  it("never refused the replication or Sentinel user a command (ACL LOG is empty everywhere)", async () => {
    for (const port of [...instancePorts(), ...sentinelPorts()]) {
      const [log] = await askRedis(port, admin, [["ACL", "LOG"]]);
      assert.ok(!(log instanceof RespError));
      assert.deepEqual(log, [], `ACL denials on port ${port}`);
    }
  });

  it("restarts a Sentinel with the state it saved, following the current master", async () => {
    const master = await agreedMaster();
    const node = sentinels[1]!;
    const before = await readFile(sentinelConfPath(node.layout), "utf8");
    const id = /^sentinel myid ([0-9a-f]{40})$/m.exec(before)?.[1];
    assert.ok(id);
    assert.ok(node.server);
    assert.equal(await node.server.stop(engine), true);
    await configureSentinel(node.layout, settings, accounts, host);
    const written = await readFile(sentinelConfPath(node.layout), "utf8");
    const lines = written.split("\n");
    assert.ok(lines.includes(`sentinel myid ${id}`), "the Sentinel keeps its id");
    assert.ok(lines.includes(`sentinel monitor ${MASTER_NAME} 127.0.0.1 ${master} 2`), "the Sentinel monitors the current master");
    await startSentinel(node);
    assert.equal((await askSentinels([node.layout.port], admin, MASTER_NAME)).answers[0]?.masterPort, master);
    await eventually("the restarted Sentinel rejoining", async () => (await sentinelMasterFields(node.layout.port, admin, MASTER_NAME)).get("num-other-sentinels") === "2");
  });
});
