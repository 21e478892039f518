/**
 * Online rotation of a Redis replication cluster's credentials with Sentinel, over TLS (ADR 0038 "Since"; issue 13
 * done-when 3): under a writer, `holdfast cluster rotate-password` gives every account (administrator, replication,
 * Sentinel, monitoring, the Sentinels' administrator) a new password; redis-cli (password through REDISCLI_AUTH only)
 * is refused the old ones on every server and Sentinel and accepted the new ones; the replication link never dropped
 * (no new full or partial sync), the exporters report redis_up 1, a Sentinel failover afterwards works; no password is
 * in any log, event, status or incident. A server killed in the middle of a rotation finishes it after its restart, and
 * an incident's containment rotates Redis too.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import type { Cluster, Instance } from "../../src/api/index.ts";
import { respExchange, type RespValue } from "../../src/engines/redis/index.ts";
import { clusterCaFile, connectionUri, installedRedisVersion, startDemoServer } from "../helpers/clients.ts";
import { eventually, run, type CliResult, type TestServer } from "../helpers/harness.ts";
import { exampleWith } from "../helpers/manifests.ts";
import { bruteForceIncident, passwordLeaks } from "../helpers/rotation.ts";

const NS = "demo";
const NAME = "redis-replication";
const MEMBERS = [0, 1].map((i) => `${NAME}-redis-${i}`);
const SENTINELS = [0, 1, 2].map((i) => `${NAME}-redis-sentinel-${i}`);
/** The users each kind of server holds, by the component whose Secret has their password. */
const MEMBER_USERS = [["redis", "default"], ["redis", "replicator"], ["redis", "sentinel"], ["redis", "kbmonitoring"]] as const;
const SENTINEL_USERS = [["redis-sentinel", "default"], ["redis", "sentinel"]] as const;

interface AccountSecret {
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  data: Record<string, string>;
}

let server: TestServer;

before(async () => {
  ({ server } = await startDemoServer());
  const version = await installedRedisVersion();
  await server.ok(["apply", "-f", "-"], await exampleWith("redis/cluster.yaml", (doc) => {
    for (const component of doc["spec"].componentSpecs) component.serviceVersion = version;
  }));
  await server.ok(["wait", `cluster/${NAME}`, "-n", NS, "--for=phase=Running", "--timeout=240s"]);
  await settled();
});

after(async () => {
  await server.destroy();
});

async function instance(name: string): Promise<Instance> {
  return server.api<Instance>(`/apis/holdfast.io/v1alpha1/namespaces/${NS}/instances/${name}`);
}

async function secrets(): Promise<AccountSecret[]> {
  const list = await server.api<{ items: AccountSecret[] }>(`/api/v1/namespaces/${NS}/secrets?labelSelector=${encodeURIComponent(`app.kubernetes.io/instance=${NAME}`)}`);
  return list.items.filter((s) => s.metadata.labels?.["apps.kubeblocks.io/system-account"] !== undefined);
}

/** Each account Secret's password in effect, by `component/account`. */
async function passwords(): Promise<Map<string, string>> {
  const key = (s: AccountSecret): string => `${s.metadata.labels?.["apps.kubeblocks.io/component-name"] ?? ""}/${s.metadata.labels?.["apps.kubeblocks.io/system-account"] ?? ""}`;
  return new Map((await secrets()).map((s) => [key(s), Buffer.from(s.data["password"] ?? "", "base64").toString("utf8")]));
}

/** The recorded master, once it and the replica are ready and the replica's link is online. */
async function settled(): Promise<Instance> {
  return eventually("a master with its replica online", async () => {
    const primary = (await server.api<Cluster>(`/apis/apps.kubeblocks.io/v1/namespaces/${NS}/clusters/${NAME}`)).status?.replication?.["redis"]?.currentPrimary;
    const all = await Promise.all([...MEMBERS, ...SENTINELS].map(instance));
    const master = all.find((i) => i.metadata.name === primary && i.status?.role === "primary");
    const replica = all.find((i) => MEMBERS.includes(i.metadata.name) && i.metadata.name !== primary);
    const ok = all.every((i) => i.status?.ready === true) && master !== undefined && replica?.status?.role === "secondary" && replica.status.replication?.state === "online";
    return ok ? master : undefined;
  }, 180_000);
}

/** redis-cli as `user` on the server at `i`, over TLS; the password reaches it through REDISCLI_AUTH alone. */
function redisCliAs(i: Instance, user: string, password: string, ...command: string[]): Promise<CliResult> {
  const args = ["--no-auth-warning", "--tls", "--cacert", clusterCaFile(server), "-h", i.status?.host ?? "127.0.0.1", "-p", String(i.spec.port), "--user", user, ...command];
  return run("redis-cli", args, { env: { ...process.env, REDISCLI_AUTH: password }, timeoutMs: 30_000 });
}

/** Does the server at `i` accept `user` with `password` (PING, which every Holdfast user may run)? */
async function accepts(i: Instance, user: string, password: string): Promise<boolean> {
  const result = await redisCliAs(i, user, password, "PING");
  return result.stdout.trim() === "PONG";
}

/** Every server and Sentinel refuses each user's `old` password and accepts its `current` one. */
async function checkLogins(old: ReadonlyMap<string, string>, current: ReadonlyMap<string, string>): Promise<void> {
  const servers: [string[], readonly (readonly [string, string])[]][] = [[MEMBERS, MEMBER_USERS], [SENTINELS, SENTINEL_USERS]];
  for (const [names, users] of servers) {
    for (const name of names) {
      const i = await instance(name);
      for (const [component, user] of users) {
        assert.equal(await accepts(i, user, old.get(`${component}/${user}`) ?? ""), false, `${name} refuses ${user}'s old password`);
        assert.equal(await accepts(i, user, current.get(`${component}/${user}`) ?? ""), true, `${name} accepts ${user}'s new password`);
      }
    }
  }
}

/** A field of an INFO reply. */
function infoField(info: string, field: string): string | undefined {
  return info.split("\n").find((l) => l.startsWith(`${field}:`))?.slice(field.length + 1).trim();
}

/** How many full resynchronisations the master served. */
async function fullSyncs(master: Instance, password: string): Promise<number> {
  return Number(infoField((await redisCliAs(master, "default", password, "INFO", "stats")).stdout, "sync_full") ?? "NaN");
}

/** `commands` on the server at `i` as its administrator, with the first of `passwords` it accepts. */
async function asAdmin(i: Instance, passwords: readonly string[], commands: string[][]): Promise<RespValue[]> {
  for (const password of passwords) {
    const [login, ...replies] = await respExchange({ host: i.status?.host ?? "127.0.0.1", port: i.spec.port, caFile: clusterCaFile(server) }, [["AUTH", "default", password], ...commands], 10_000);
    if (login === "OK") return replies;
  }
  return assert.fail(`${i.metadata.name} accepts none of the administrator's passwords`);
}

/** The administrator's passwords of instance `name` (its component's `default`), old and new. */
function adminPasswords(name: string, ...maps: ReadonlyMap<string, string>[]): string[] {
  const component = SENTINELS.includes(name) ? "redis-sentinel" : "redis";
  return maps.map((m) => m.get(`${component}/default`) ?? "");
}

/** The users whose password the server at `name` refused since its ACL LOG was reset (entries of reason `auth`). */
async function refusedLogins(name: string, passwords: readonly string[]): Promise<string[]> {
  const [log] = await asAdmin(await instance(name), passwords, [["ACL", "LOG"]]);
  return (Array.isArray(log) ? log : []).flatMap((entry) => {
    const fields = Array.isArray(entry) ? entry : [];
    const field = (key: string): RespValue | undefined => fields[fields.indexOf(key) + 1];
    const user = field("username");
    return field("reason") === "auth" && typeof user === "string" ? [user] : [];
  });
}

/** The members' administrator passwords in the Secret now: the one in effect and, during a rotation, the next one. */
async function memberAdminPasswords(): Promise<string[]> {
  const secret = (await secrets()).find((s) => s.metadata.name === `${NAME}-redis-account-default`);
  return ["password", "nextPassword"].flatMap((key) => (secret?.data[key] === undefined ? [] : [Buffer.from(secret.data[key], "base64").toString("utf8")]));
}

/** Every server and Sentinel refused no login of a Holdfast client (replication, Sentinel, monitoring) since its ACL LOG was reset. */
async function checkNoRefusedLogins(current: ReadonlyMap<string, string>): Promise<void> {
  for (const name of [...MEMBERS, ...SENTINELS]) {
    const refused = (await refusedLogins(name, adminPasswords(name, current))).filter((user) => user !== "default");
    assert.deepEqual(refused, [], `${name} refused no replication, Sentinel or monitoring login`);
  }
}

/** Drops the replica's link to its master every 250 ms until stopped: each reconnection logs in with its masterauth. */
function startLinkKiller(replica: Instance): { stop: () => Promise<number> } {
  let running = true;
  let kills = 0;
  const loop = (async () => {
    while (running) {
      const [killed] = await asAdmin(replica, await memberAdminPasswords(), [["CLIENT", "KILL", "TYPE", "master"]]).catch(() => [0]);
      kills += typeof killed === "number" ? killed : 0;
      await sleep(250);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return kills;
    },
  };
}

/** The replica streams from the master: its link is up and the master counts it. */
async function checkStreaming(master: Instance, password: string): Promise<void> {
  const replica = await instance(MEMBERS.find((m) => m !== master.metadata.name) ?? "");
  await eventually("the replica's link up", async () => (infoField((await redisCliAs(replica, "default", password, "INFO", "replication")).stdout, "master_link_status") === "up" ? true : undefined), 30_000);
  assert.equal(infoField((await redisCliAs(master, "default", password, "INFO", "replication")).stdout, "connected_slaves"), "1");
}

/** Writes through the read-write endpoint every 20 ms, as a client that reads the administrator's password in effect when one is refused. */
function startWriter(port: number): { stop: () => Promise<{ acks: number; errors: number }> } {
  let running = true;
  let acks = 0;
  let errors = 0;
  const loop = (async () => {
    let password = (await passwords()).get("redis/default") ?? "";
    for (let id = 1; running; id++) {
      const replies = await respExchange({ host: "127.0.0.1", port, caFile: clusterCaFile(server) }, [["AUTH", "default", password], ["SET", `rot:${id}`, String(id)]], 10_000).catch(() => []);
      if (replies[1] === "OK") acks++;
      else {
        errors++;
        password = (await passwords()).get("redis/default") ?? password;
      }
      await sleep(20);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { acks, errors };
    },
  };
}

/** Where any of `values` appears (passwordLeaks). */
async function leaks(values: readonly string[]): Promise<string[]> {
  return passwordLeaks(server, NS, values);
}

/** The exporter of instance `name` reports redis_up 1: it logs in with the monitoring password in effect. */
async function exporterUp(name: string): Promise<void> {
  await eventually(`redis_up 1 from ${name}'s exporter`, async () => {
    const i = await instance(name);
    const port = i.status?.exporter?.port;
    if (port === undefined) return undefined;
    const text = await fetch(`http://${i.status?.host ?? "127.0.0.1"}:${port}/metrics`).then((r) => r.text(), () => "");
    return /^redis_up 1$/m.test(text) ? true : undefined;
  }, 60_000);
}

/** Each member's exporter logs in with the new monitoring password. */
async function checkExporters(): Promise<void> {
  for (const name of MEMBERS) await exporterUp(name);
}

/** Wait until no rotation is under way and every account in `old` has another password; the passwords in effect. */
async function rotated(old: ReadonlyMap<string, string>): Promise<Map<string, string>> {
  return eventually("every account rotated", async () => {
    const now = await passwords();
    // Finished: no next password waiting, and no server holding a previous one.
    const finished = (await secrets()).every((s) => s.data["nextPassword"] === undefined && s.metadata.annotations?.["holdfast.io/previous-password-held"] === undefined);
    const done = finished && [...old].every(([key, password]) => now.get(key) !== password);
    return done ? now : undefined;
  }, 180_000);
}

/** Sentinel fails over with the new passwords after kill -9 of `master`: it promotes the replica, and the old master rejoins it. */
async function checkFailover(master: Instance, admin: string): Promise<void> {
  const pid = master.status?.pid;
  assert.ok(pid !== undefined);
  process.kill(pid, "SIGKILL");
  const promoted = await eventually("the replica promoted", async () => {
    const now = await settled();
    return now.metadata.name === master.metadata.name ? undefined : now;
  }, 120_000);
  assert.equal((await redisCliAs(promoted, "default", admin, "SET", "after-rotation", "yes")).stdout.trim(), "OK");
  await checkStreaming(promoted, admin);
}

describe("online rotation of Redis credentials with Sentinel", { timeout: 1_200_000 }, () => {
  test("rotate-password under a writer: old passwords refused everywhere, new ones work, replication never dropped, a failover works, nothing logged", async (t) => {
    const old = await passwords();
    const master = await settled();
    const fullSyncsBefore = await fullSyncs(master, old.get("redis/default") ?? "");
    for (const name of [...MEMBERS, ...SENTINELS]) await asAdmin(await instance(name), adminPasswords(name, old), [["ACL", "LOG", "RESET"]]);
    const replica = await instance(MEMBERS.find((m) => m !== master.metadata.name) ?? "");
    const killer = startLinkKiller(replica);
    const rw = (await server.api<Cluster>(`/apis/apps.kubeblocks.io/v1/namespaces/${NS}/clusters/${NAME}`)).status?.endpoints?.find((e) => e.access === "ReadWrite");
    assert.ok(rw !== undefined);
    const writer = startWriter(rw.port);
    await sleep(300);
    const started = Date.now();
    const result = await server.cli(["cluster", "rotate-password", NAME, "-n", NS, "--timeout", "5m"]);
    t.diagnostic(`rotate-password of ${old.size} accounts took ${Date.now() - started} ms (noisy: other tests share the machine)`);
    assert.equal(result.code, 0, `${result.stdout}${result.stderr}`);
    assert.equal(result.stdout.match(/: rotated/g)?.length, old.size, result.stdout);
    await sleep(500);
    const writes = await writer.stop();
    const kills = await killer.stop();
    t.diagnostic(`the replica's link to its master was dropped ${kills} times during the rotation`);
    assert.ok(kills > 0);
    t.diagnostic(`writer: ${writes.acks} writes acknowledged, ${writes.errors} refused or failed (a client re-reads the Secret once its old password is refused)`);
    assert.ok(writes.acks > 0);
    const current = await passwords();
    for (const [key, password] of old) assert.notEqual(current.get(key), password, `${key} has a new password`);

    // No Holdfast client was refused at any step: replicas (reconnecting all along), Sentinels, exporters. Checked
    // before this test tries the old passwords itself.
    await checkNoRefusedLogins(current);
    await checkLogins(old, current);
    const uri = new URL(await connectionUri(server, NAME, NS));
    assert.equal(decodeURIComponent(uri.password), current.get("redis/default"), "cluster connect --show-uri gives the new password");
    assert.equal(await fullSyncs(master, current.get("redis/default") ?? ""), fullSyncsBefore, "each reconnection resumed with a partial sync");
    await checkStreaming(master, current.get("redis/default") ?? "");
    await checkExporters();

    await checkFailover(master, current.get("redis/default") ?? "");
    assert.deepEqual(await leaks([...old.values(), ...current.values()]), []);
  });

  test("a server killed in the middle of a rotation finishes it after its restart", async () => {
    const old = await passwords();
    assert.equal((await server.cli(["cluster", "rotate-password", NAME, "-n", NS, "--no-wait"])).code, 0);
    // Mid-way: some instance accepts the next password and the rotation is not finished.
    await eventually("an instance accepting a next password", async () => {
      const pending = (await secrets()).some((s) => s.data["nextPassword"] !== undefined);
      const accepted = (await Promise.all(MEMBERS.map(instance))).some((i) => Object.values(i.status?.passwords ?? {}).some((p) => p.connectsWith === undefined));
      return pending && accepted ? true : undefined;
    }, 60_000);
    await server.kill();
    await server.startProcess();
    const current = await rotated(old);
    await checkLogins(old, current);
    const master = await settled();
    await checkStreaming(master, current.get("redis/default") ?? "");
    assert.deepEqual(await leaks([...old.values(), ...current.values()]), []);
  });

  test("an incident's containment rotates the Redis cluster's credentials", async () => {
    const incident = await bruteForceIncident(server);
    const old = await passwords();
    const contained = await server.cli(["incident", "contain", incident, "--rotate-credentials", `${NS}/${NAME}`]);
    assert.equal(contained.code, 0, `${contained.stdout}${contained.stderr}`);
    const current = await rotated(old);
    await checkLogins(old, current);
    await checkStreaming(await settled(), current.get("redis/default") ?? "");
    assert.match(await server.ok(["incident", "describe", incident, "-o", "json"]), /RotateCredentials/);
    assert.deepEqual(await leaks([...old.values(), ...current.values()]), []);
  });

  test("a standalone Redis: the administrator's and the monitoring user's passwords rotate online, the exporter follows", async () => {
    await server.ok(["cluster", "create", "cache", "--engine", "redis", "-n", NS]);
    await server.ok(["wait", "cluster/cache", "-n", NS, "--for=phase=Running", "--timeout=180s"]);
    const secretOf = async (account: string): Promise<string> => {
      const found = await server.api<AccountSecret>(`/api/v1/namespaces/${NS}/secrets/cache-redis-account-${account}`);
      return Buffer.from(found.data["password"] ?? "", "base64").toString("utf8");
    };
    const old = { admin: await secretOf("default"), monitor: await secretOf("kbmonitoring") };
    const result = await server.cli(["cluster", "rotate-password", "cache", "-n", NS, "--timeout", "5m"]);
    assert.equal(result.code, 0, `${result.stdout}${result.stderr}`);
    const current = { admin: await secretOf("default"), monitor: await secretOf("kbmonitoring") };
    const only = await instance("cache-redis-0");
    assert.equal(await accepts(only, "default", old.admin), false);
    assert.equal(await accepts(only, "kbmonitoring", old.monitor), false);
    assert.equal(await accepts(only, "default", current.admin), true);
    assert.equal(await accepts(only, "kbmonitoring", current.monitor), true);
    await exporterUp("cache-redis-0");
    assert.deepEqual(await leaks([...Object.values(old), ...Object.values(current)]), []);
  });
});
