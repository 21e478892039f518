/**
 * Patroni from Debian on the same lab and the same etcd, for `failover-multihost`: one Patroni and one PostgreSQL 15
 * per host, on the host's address, run as the OS user `postgres`, with its own scope and key prefix on the lab's etcd
 * (v3 API) and its most aggressive valid timing. Writers use libpq's multi-host `target_session_attrs=read-write`,
 * which is what Patroni offers a client without a proxy in front (its REST API is for HAProxy-style health checks).
 *
 * Patroni 3.0.2 (Debian 12) checks none of ttl, loop_wait and retry_timeout at start (they are only made integers);
 * its documented rule is `loop_wait + 2 * retry_timeout <= ttl` (so that a primary that cannot update the leader key
 * demotes itself before the key expires), and its documentation gives the lowest values as loop_wait 1 and
 * retry_timeout 3 (later releases raise lower ones to these at start). retry_timeout 3 is also the least its etcd
 * client needs to reach every member of a 3-member etcd: it gives each member at least 1 s of a request's
 * retry_timeout and, below 3 s, retries on fewer members (`_calculate_timeouts`): with retry_timeout 1 a member that
 * does not answer takes the whole deadline, none is left for another, the call fails, and each failure restarts the
 * client's watch, which reads wait for (ADR 0032, "Since"). So loop_wait 1, retry_timeout 3 and ttl 7 (the rule's least), not the ttl ≥ 20 later
 * releases impose: Patroni at its fastest that survives losing an etcd member.
 */
import { randomBytes } from "node:crypto";
import { chown, mkdir, readFile, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { Lab, LabHostPlan } from "../src/lab/index.ts";
import { lookupUser, type ServiceUser } from "../src/runtime/index.ts";
import { CLIENT_SETTINGS, type WriterTarget } from "./lab-writer.ts";
import { pgpassField } from "./multihost-holdfast.ts";
import type { FailoverSystem } from "./multihost-trials.ts";

/** The most aggressive valid timing (see above), `primary_start_timeout: 0` (no restart in place first). */
export const PATRONI_TIMING = { ttl: 7, loop_wait: 1, retry_timeout: 3, primary_start_timeout: 0, maximum_lag_on_failover: 1_073_741_824 } as const;
const PATRONI = "/usr/bin/patroni";
const PG_BIN = "/usr/lib/postgresql/15/bin";
const PG_PORT = 25432;
const API_PORT = 28008;

/**
 * The Debian packages Patroni on etcd needs, by a file each installs: `patroni` depends on any one DCS client, and
 * apt is content with one already installed (python3-kubernetes, say), so python3-etcd is named too.
 */
const PACKAGES: Record<string, string> = { [PATRONI]: "patroni", "/usr/lib/python3/dist-packages/etcd/__init__.py": "python3-etcd" };

/** Why Patroni cannot run here, after installing it (root, Debian) when missing; undefined when it can. */
export function patroniMissing(): string | undefined {
  if (!existsSync(join(PG_BIN, "postgres"))) return `PostgreSQL 15 is not installed (${PG_BIN})`;
  const missing = Object.entries(PACKAGES).filter(([file]) => !existsSync(file)).map(([, name]) => name);
  if (missing.length === 0) return undefined;
  if (process.getuid?.() !== 0) return `${missing.join(" and ")} not installed, and installing needs root (apt-get install ${missing.join(" ")})`;
  console.log(`installing from Debian: apt-get install ${missing.join(" ")}`);
  const result = spawnSync("apt-get", ["install", "-y", "-qq", ...missing], { stdio: "inherit", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
  const still = Object.keys(PACKAGES).filter((file) => !existsSync(file));
  if (result.status !== 0 || still.length > 0) return `apt-get install ${missing.join(" ")} failed (exit ${result.status ?? "signal"})`;
  return undefined;
}

/** The installed Patroni's version line. */
export function patroniVersion(): string {
  return spawnSync(PATRONI, ["--version"], { encoding: "utf8" }).stdout.trim();
}

function secret(): string {
  return randomBytes(18).toString("base64url");
}

export class PatroniSystem implements FailoverSystem {
  readonly name = "Patroni";
  readonly leaseMs = PATRONI_TIMING.ttl * 1000;
  readonly #dir: string;
  readonly #passwords = { superuser: secret(), replication: secret() };
  #user: ServiceUser | undefined;
  readonly #pids = new Map<string, number>();

  readonly #lab: Lab;

  constructor(lab: Lab, benchHome: string) {
    this.#lab = lab;
    this.#dir = join(benchHome, "patroni");
  }

  #hostDir(host: LabHostPlan): string {
    return join(this.#dir, host.name);
  }

  #config(host: LabHostPlan): Record<string, unknown> {
    const hostDir = this.#hostDir(host);
    const subnet = `${this.#lab.network.subnetPrefix}.0/24`;
    return {
      scope: "holdfast-bench",
      namespace: "/patroni-bench/",
      name: host.name,
      restapi: { listen: `${host.address}:${API_PORT}`, connect_address: `${host.address}:${API_PORT}` },
      etcd3: { hosts: this.#lab.state.etcd.map((m) => new URL(m.clientUrl).host) },
      bootstrap: {
        dcs: { ...PATRONI_TIMING, postgresql: { use_pg_rewind: true, use_slots: true, parameters: { wal_log_hints: "on", max_wal_senders: 10, max_replication_slots: 10, wal_keep_size: "256MB" } } },
        initdb: [{ encoding: "UTF8" }, "data-checksums"],
      },
      postgresql: {
        listen: `${host.address}:${PG_PORT}`,
        connect_address: `${host.address}:${PG_PORT}`,
        data_dir: join(hostDir, "data"),
        bin_dir: PG_BIN,
        pgpass: join(hostDir, "pgpass"),
        use_unix_socket: false,
        authentication: {
          superuser: { username: "postgres", password: this.#passwords.superuser },
          replication: { username: "replicator", password: this.#passwords.replication },
        },
        parameters: { unix_socket_directories: hostDir },
        pg_hba: ["local all all trust", "local replication all trust", `host all all ${subnet} scram-sha-256`, `host replication replicator ${subnet} scram-sha-256`, "host all all 127.0.0.1/32 scram-sha-256"],
      },
      watchdog: { mode: "off" },
    };
  }

  /** Write every host's configuration (0600, owned by postgres) and the writers' pgpass file (root's, 0600). */
  async #writeConfigs(): Promise<void> {
    const user = await lookupUser("postgres");
    if (user === undefined) throw new Error("the OS user postgres does not exist (it comes with Debian's postgresql-common)");
    this.#user = user;
    await mkdir(this.#dir, { recursive: true, mode: 0o755 });
    for (const host of this.#lab.hosts) {
      const hostDir = this.#hostDir(host);
      await mkdir(hostDir, { recursive: true, mode: 0o700 });
      await chown(hostDir, user.uid, user.gid);
      const file = join(hostDir, "patroni.yml");
      // JSON is YAML, and its quoted strings stay strings for PyYAML's YAML 1.1 (where a bare `on` or `off` is a boolean).
      await writeFile(file, `${JSON.stringify(this.#config(host), null, 2)}\n`, { mode: 0o600 });
      await chown(file, user.uid, user.gid);
    }
    await writeFile(this.#passFile(), `*:*:*:postgres:${pgpassField(this.#passwords.superuser)}\n`, { mode: 0o600 });
  }

  #passFile(): string {
    return join(this.#dir, "writers.pgpass");
  }

  /** Start Patroni inside `host`, as postgres. */
  #start(host: LabHostPlan): void {
    const user = this.#user;
    if (user === undefined) throw new Error("Patroni's configuration is not written yet");
    const hostDir = this.#hostDir(host);
    const argv = ["setpriv", `--reuid=${user.uid}`, `--regid=${user.gid}`, "--init-groups", "env", `HOME=${hostDir}`, PATRONI, join(hostDir, "patroni.yml")];
    this.#pids.set(host.name, this.#lab.spawn(host, argv, join(this.#dir, `${host.name}.log`)));
  }

  /** Bootstrap the cluster: the first host initialises, the others clone it. */
  async create(): Promise<void> {
    await this.#writeConfigs();
    for (const host of this.#lab.hosts) this.#start(host);
    await this.settled(300_000);
    const table = await this.#psql(this.#lab.host(1), this.#conninfo(this.#lab.hosts, true), "CREATE TABLE IF NOT EXISTS bench_writes (id bigint PRIMARY KEY)");
    if (table.code !== 0) throw new Error(`creating the table: ${table.stderr}`);
  }

  /** Stop every Patroni (each stops its PostgreSQL), SIGKILL after 20 s. */
  async stop(): Promise<void> {
    for (const pid of this.#pids.values()) {
      try {
        process.kill(pid, "SIGTERM");
      } catch {
        // Gone with its host.
      }
    }
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline && [...this.#pids.values()].some((pid) => existsSync(`/proc/${pid}`))) await sleep(200);
  }

  #conninfo(hosts: readonly LabHostPlan[], readWrite: boolean): string {
    const words = [`host=${hosts.map((h) => h.address).join(",")}`, `port=${hosts.map(() => PG_PORT).join(",")}`, "user=postgres", "dbname=postgres"];
    if (readWrite) words.push("target_session_attrs=read-write");
    return `${words.join(" ")} ${CLIENT_SETTINGS}`;
  }

  #psql(host: LabHostPlan, conninfo: string, sql: string): ReturnType<Lab["exec"]> {
    return this.#lab.exec(host, ["psql", "-X", "-t", "-A", "-v", "ON_ERROR_STOP=1", conninfo, "-c", sql], { env: { ...process.env, PGPASSFILE: this.#passFile() }, timeoutMs: 10_000 });
  }

  /** Each host's own server: in recovery or not, and how many replicas stream from it. */
  async #roles(): Promise<{ host: LabHostPlan; primary: boolean; streaming: number }[]> {
    const answers = await Promise.all(this.#lab.hosts.map(async (host) => ({ host, result: await this.#psql(host, this.#conninfo([host], false), "SELECT pg_is_in_recovery(), (SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming')") })));
    return answers.filter((a) => a.result.code === 0).map(({ host, result }) => {
      const [recovery, streaming] = result.stdout.trim().split("|");
      return { host, primary: recovery === "f", streaming: Number(streaming) };
    });
  }

  async settled(timeoutMs: number): Promise<LabHostPlan> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const roles = await this.#roles();
      const primaries = roles.filter((r) => r.primary);
      if (roles.length === 3 && primaries.length === 1 && primaries[0]?.streaming === 2) return primaries[0].host;
      if (performance.now() > deadline) throw new Error(`Patroni: no primary with two streaming replicas after ${timeoutMs / 1000} s: ${JSON.stringify(roles.map((r) => [r.host.name, r.primary, r.streaming]))}`);
      await sleep(500);
    }
  }

  /** libpq multi-host, the writer's own host first, then the others in order. */
  target(from: LabHostPlan): Promise<WriterTarget> {
    const hosts = [from, ...this.#lab.hosts.filter((h) => h.name !== from.name)];
    return Promise.resolve({ conninfo: this.#conninfo(hosts, true), hosts: hosts.length, passFile: this.#passFile() });
  }

  /** A host's Patroni died with it: start it again (it rewinds or re-clones its PostgreSQL and follows the leader). */
  restarted(host: LabHostPlan): Promise<void> {
    this.#start(host);
    return Promise.resolve();
  }

  controllersLeader(): Promise<string | undefined> {
    return Promise.resolve(undefined);
  }

  async diagnosis(): Promise<string> {
    const lines = [`roles: ${JSON.stringify((await this.#roles()).map((r) => [r.host.name, r.primary ? "primary" : "replica", r.streaming]))}`];
    for (const host of this.#lab.hosts) {
      const log = await readFile(join(this.#dir, `${host.name}.log`), "utf8").catch(() => "");
      lines.push(`${host.name} Patroni log, last lines:\n${log.trim().split("\n").slice(-12).join("\n")}`);
    }
    return lines.join("\n");
  }
}
