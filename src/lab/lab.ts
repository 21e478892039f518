/**
 * A lab of hosts on one machine: N Linux network namespaces joined by a bridge, a 3-member etcd and a Holdfast node
 * in each, made by `up`, inspected by `status`, removed whole by `down`; and the handles tests and benches use to act
 * on one host: run a command in it, kill all its processes at once, cut it off the network and heal it.
 */
import { existsSync, readdirSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { InvalidError, NotFoundError, UnavailableError } from "../errors/index.ts";
import { adminCliHome, logIn, writeAdminFiles } from "./admin.ts";
import { runCommand, spawnBackground, labEnvironment, type CommandOptions, type CommandResult } from "./commands.ts";
import { etcdMissing, startEtcdMember, waitEtcdHealthy } from "./etcd.ts";
import { assertNamespacesFree, createNetwork, hostLinkUp, inNamespace, listNamespaces, netnsDirState, pidsInNamespace, setHostLink } from "./network.ts";
import { apiAnswers, holdfastIn, initFirstNode, joinNode, readyNodes, startServer } from "./nodes.ts";
import { labNetwork, namespacesOf, planLab, type LabEtcdPlan, type LabHostPlan, type LabNetwork } from "./plan.ts";
import { isLabProcessAlive, killNow, terminate, type LabProcess } from "./processes.ts";
import { hasState, readState, writeState, type LabState } from "./state.ts";
import { labPids, tearDown } from "./teardown.ts";

/** Where the lab lives unless `--home` says otherwise (under /tmp: the clusters' OS users can traverse it). */
export const DEFAULT_LAB_HOME = "/tmp/hf-lab";
const READY_TIMEOUT_MS = 90_000;

/** How to make a lab. */
export interface LabUpOptions {
  hosts: number;
  home?: string;
  /** The lab network, 1..9 (default 1: `hf-lab-*` on 10.213.7.0/24; N ≥ 2: `hf-labN-*` on 10.213.(6+N).0/24). */
  network?: number;
  /** The first administrator's name (default `admin`). */
  admin?: string;
  /** Progress lines (the script writes them to stderr). */
  log?: (line: string) => void;
}

/** What `up` prints: where everything is. */
export interface LabDescription {
  hosts: { name: string; namespace: string; address: string; api: string; home: string }[];
  etcd: { name: string; namespace: string; clientUrl: string }[];
  admin: { username: string; passwordFile: string; totpSecretFile: string; recoveryCodesFile: string; cliHome: string };
}

/** One host in `status`. */
export interface LabHostStatus {
  name: string;
  namespace: boolean;
  linkUp: boolean;
  processes: { kind: LabProcess["kind"]; name: string; pid: number; alive: boolean }[];
  apiReady: boolean;
}

/** What is missing on this machine for a lab, each with what to do; empty when a lab can run. */
export function labPrerequisites(): string[] {
  const missing: string[] = [];
  if (process.getuid?.() !== 0) missing.push("root (network namespaces, and the clusters' OS users, need it): run as root");
  if (!["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"].some((path) => existsSync(path))) missing.push("ip (Debian package iproute2)");
  const etcd = etcdMissing();
  if (etcd !== undefined) missing.push(etcd);
  return missing;
}

type HostRef = number | string | LabHostPlan;

/** A lab recorded in its state file. */
export class Lab {
  #state: LabState;

  private constructor(state: LabState) {
    this.#state = state;
  }

  /** The lab at `home` (default /tmp/hf-lab), from its state file. */
  static open(home: string = DEFAULT_LAB_HOME): Lab {
    return new Lab(readState(resolve(home)));
  }

  /** Is a lab (even a half-made one) recorded at `home`? */
  static exists(home: string = DEFAULT_LAB_HOME): boolean {
    return hasState(resolve(home));
  }

  /** Make the lab; on any failure everything made so far is removed again before the error is thrown. */
  static async up(options: LabUpOptions): Promise<Lab> {
    const log = options.log ?? (() => undefined);
    const missing = labPrerequisites();
    if (missing.length > 0) throw new UnavailableError(`the lab cannot run here; missing: ${missing.join("; ")}`);
    const lab = new Lab(await recordPlan(resolve(options.home ?? DEFAULT_LAB_HOME), options.hosts, options.network ?? 1));
    try {
      await lab.#build(options.admin ?? "admin", log);
      return lab;
    } catch (error) {
      log(`up failed (${error instanceof Error ? error.message : String(error)}); removing what was made`);
      lab.#state.phase = "failed";
      writeState(lab.#state);
      await tearDown(lab.#state, log);
      throw error;
    }
  }

  /** Remove the lab at `home`; false when none is recorded there. Safe to run again, and after a crashed `up`. */
  static async down(home: string = DEFAULT_LAB_HOME, log: (line: string) => void = () => undefined): Promise<boolean> {
    const resolved = resolve(home);
    if (!hasState(resolved)) return false;
    await tearDown(readState(resolved), log);
    return true;
  }

  /** The lab's state as recorded (plan, processes, administrator). */
  get state(): Readonly<LabState> {
    return this.#state;
  }

  get home(): string {
    return this.#state.home;
  }

  get hosts(): readonly LabHostPlan[] {
    return this.#state.hosts;
  }

  /** The lab's network: its names and subnet. */
  get network(): LabNetwork {
    return labNetwork(this.#state.network);
  }

  /** The host by 1-based index, name (`hf-lab-2`) or plan. */
  host(ref: HostRef): LabHostPlan {
    const found = typeof ref === "object" ? ref : this.#state.hosts.find((host) => host.index === ref || host.name === ref);
    if (found === undefined) throw new NotFoundError(`the lab has no host ${String(typeof ref === "object" ? ref.name : ref)}`);
    return found;
  }

  /** The JSON document `up` prints. */
  describe(): LabDescription {
    const admin = this.#state.admin;
    if (admin === undefined) throw new UnavailableError(`the lab at ${this.home} has no administrator yet (up did not finish)`);
    return {
      hosts: this.#state.hosts.map(({ name, namespace, address, api, home }) => ({ name, namespace, address, api, home })),
      etcd: this.#state.etcd.map(({ name, namespace, clientUrl }) => ({ name, namespace, clientUrl })),
      admin: { ...admin, cliHome: adminCliHome(this.#state.adminDir) },
    };
  }

  /** Run `argv` to completion inside the host's namespace. */
  exec(ref: HostRef, argv: readonly string[], options: CommandOptions = {}): Promise<CommandResult> {
    return runCommand(inNamespace(this.host(ref).namespace, argv), options);
  }

  /** Start `argv` in the background inside the host's namespace, logging to `logFile`; its pid. */
  spawn(ref: HostRef, argv: readonly string[], logFile: string): number {
    return spawnBackground(inNamespace(this.host(ref).namespace, argv), logFile, labEnvironment());
  }

  /** Run the CLI as the lab's administrator, from inside the host's namespace, against that host's API. */
  holdfast(ref: HostRef, args: readonly string[], options: CommandOptions = {}): Promise<CommandResult> {
    const host = this.host(ref);
    return holdfastIn(host, ["--server", host.api, ...args], { ...options, home: adminCliHome(this.#state.adminDir) });
  }

  /** SIGKILL every process of the host at once (its node, its databases, its etcd member): a host lost. */
  async killHost(ref: HostRef): Promise<number[]> {
    const pids = await pidsInNamespace(this.host(ref).namespace);
    killNow(pids);
    await terminate(pids, 5_000);
    return pids;
  }

  /** Stop every process of the host cleanly (SIGTERM, then SIGKILL after `graceMs`). */
  async stopHost(ref: HostRef, graceMs = 10_000): Promise<void> {
    await terminate(await pidsInNamespace(this.host(ref).namespace), graceMs);
  }

  /** Start the host's etcd member (if it has one) and its node again after `killHost`/`stopHost`. */
  async restartHost(ref: HostRef): Promise<void> {
    const host = this.host(ref);
    const member = this.#state.etcd.find((m) => m.host === host.index);
    if (member !== undefined) {
      this.#record(await startEtcdMember(member, this.#state.etcd));
      await waitEtcdHealthy([member]);
    }
    this.#record(await startServer(host));
  }

  /** Cut the host off the lab network (its bridge port down, from outside it): its processes keep running, isolated. */
  async cutHost(ref: HostRef): Promise<void> {
    await setHostLink(this.network, this.host(ref), "down");
  }

  /** Connect a cut host again. */
  async healHost(ref: HostRef): Promise<void> {
    await setHostLink(this.network, this.host(ref), "up");
  }

  /** Per host: its namespace, link, recorded processes (alive?) and whether its API answers. */
  async status(): Promise<LabHostStatus[]> {
    const namespaces = new Set(await listNamespaces());
    return Promise.all(
      this.#state.hosts.map(async (host) => {
        const processes = await Promise.all(
          this.#state.processes
            .filter((p) => p.namespace === host.namespace)
            .map(async (p) => ({ kind: p.kind, name: p.name, pid: p.pid, alive: await isLabProcessAlive(p) })),
        );
        const present = namespaces.has(host.namespace);
        return { name: host.name, namespace: present, linkUp: present && (await hostLinkUp(this.network, host)), processes, apiReady: present && (await apiAnswers(host)) };
      }),
    );
  }

  /** Every pid of the lab now (in its namespaces or working under its home). */
  pids(): Promise<number[]> {
    return labPids(this.#state);
  }

  #record(process: LabProcess): void {
    this.#state.processes = [...this.#state.processes.filter((p) => !(p.kind === process.kind && p.name === process.name)), process];
    writeState(this.#state);
  }

  async #build(admin: string, log: (line: string) => void): Promise<void> {
    const { hosts, etcd } = this.#state;
    log(`creating namespaces ${namespacesOf(this.#state).join(", ")} on ${this.network.subnetPrefix}.0/24`);
    await createNetwork(this.network, hosts);
    await this.#startEtcd(etcd, log);
    const first = this.host(1);
    log(`initialising ${first.name} on the lab's etcd`);
    const created = await initFirstNode(first, etcd, admin);
    this.#state.admin = await writeAdminFiles(this.#state.adminDir, created);
    writeState(this.#state);
    log(`starting ${first.name} at ${first.api}`);
    this.#record(await startServer(first));
    const cliHome = adminCliHome(this.#state.adminDir);
    await logIn(first, this.#state.admin, cliHome, join(first.home, "tls", "ca.crt"));
    for (const host of hosts.slice(1)) {
      log(`joining ${host.name} and starting it at ${host.api}`);
      await joinNode(first, host, cliHome);
      this.#record(await startServer(host));
    }
    await this.#waitReady(log);
    this.#state.phase = "up";
    writeState(this.#state);
  }

  async #startEtcd(etcd: readonly LabEtcdPlan[], log: (line: string) => void): Promise<void> {
    log(`starting etcd members ${etcd.map((m) => `${m.name} (${m.clientUrl})`).join(", ")}`);
    for (const member of etcd) this.#record(await startEtcdMember(member, etcd));
    await waitEtcdHealthy(etcd);
  }

  async #waitReady(log: (line: string) => void): Promise<void> {
    const want = this.#state.hosts.map((host) => host.name);
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      const ready = await readyNodes(this.host(1), adminCliHome(this.#state.adminDir));
      if (want.every((name) => ready.includes(name))) {
        log("every node is Ready");
        return;
      }
      if (Date.now() > deadline) throw new UnavailableError(`nodes not Ready after ${READY_TIMEOUT_MS / 1000} s: ${want.filter((name) => !ready.includes(name)).join(", ")}`);
      await sleep(500);
    }
  }
}

/** Check the home and the namespaces are free, then write the plan to the state file before anything is made. */
async function recordPlan(home: string, count: number, network: number): Promise<LabState> {
  if (hasState(home)) throw new InvalidError(`a lab is recorded at ${home} already: remove it with npm run lab -- down --home ${home} first`);
  const plan = planLab(count, home, network);
  await assertNamespacesFree(namespacesOf(plan));
  const createdHome = !existsSync(home);
  if (!createdHome && readdirSync(home).length > 0) throw new InvalidError(`${home} exists and is not empty: give the lab a new or empty --home`);
  await mkdir(home, { recursive: true, mode: 0o700 });
  const state: LabState = { version: 1, createdHome, netnsDir: netnsDirState(), phase: "creating", ...plan, processes: [] };
  writeState(state);
  return state;
}
