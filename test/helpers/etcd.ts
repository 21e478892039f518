/**
 * Real etcd for tests: 1 or 3 members of /usr/bin/etcd on free loopback ports (never 2379/2380, which a system
 * etcd may hold), in a temporary directory, with ways to kill, stop and restart members and to remove it all.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync, openSync, closeSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Agent, request } from "undici";

export const ETCD_BINARY = "/usr/bin/etcd";
export const ETCDCTL_BINARY = "/usr/bin/etcdctl";

/** Why etcd tests cannot run here, or undefined when they can. */
export function etcdMissing(): string | undefined {
  return existsSync(ETCD_BINARY) ? undefined : `${ETCD_BINARY} is not installed (Debian package etcd-server); etcd tests skipped`;
}

/** One member. */
export interface EtcdMember {
  name: string;
  clientPort: number;
  peerPort: number;
  dataDir: string;
  logFile: string;
  process: ChildProcess | undefined;
}

/** PEM files of a test CA and of a client certificate it signed. */
export interface TestEtcdTls {
  ca: string;
  cert: string;
  key: string;
}

/** A running etcd cluster under test. */
export interface TestEtcd {
  dir: string;
  /** Set when started with `tls: true`: members serve https and require a client certificate signed by `ca`. */
  tls: TestEtcdTls | undefined;
  members: EtcdMember[];
  /** `127.0.0.1:PORT` of every member, in order. */
  endpoints: string[];
  /** `etcd://127.0.0.1:P1,127.0.0.1:P2,...` */
  url: string;
  /** Send a signal to a member (SIGKILL by default) and wait for it to exit (unless the signal is SIGSTOP). */
  kill(member: number, signal?: NodeJS.Signals): Promise<void>;
  /** Stop a member cleanly. */
  stop(member: number): Promise<void>;
  /** Start a stopped or killed member again on its data directory and ports. */
  restart(member: number): Promise<void>;
  /** Stop every member and remove the directory. */
  destroy(): Promise<void>;
  /** The index of the member that is the raft leader now (asked of the running members). */
  leader(): Promise<number>;
}

/** Start `members` (1 or 3) etcd members and wait until the cluster has a leader. */
export async function startEtcd(options: { members?: 1 | 3; tls?: boolean } = {}): Promise<TestEtcd> {
  const count = options.members ?? 1;
  const dir = await mkdtemp(join(tmpdir(), "holdfast-etcd-"));
  const tls = options.tls === true ? makeCertificates(dir) : undefined;
  const members: EtcdMember[] = [];
  const ports = await freePorts(2 * count);
  for (let i = 0; i < count; i++) {
    const clientPort = ports[2 * i] ?? 0;
    const peerPort = ports[2 * i + 1] ?? 0;
    members.push({ name: `m${i}`, clientPort, peerPort, dataDir: join(dir, `m${i}.etcd`), logFile: join(dir, `m${i}.log`), process: undefined });
  }
  const token = `holdfast-test-${process.pid}-${Date.now()}`;
  const cluster = members.map((m) => `${m.name}=http://127.0.0.1:${m.peerPort}`).join(",");
  const launch = (member: EtcdMember): void => {
    member.process = launchMember(member, cluster, token, tls === undefined ? undefined : dir);
  };
  for (const member of members) launch(member);
  const endpoints = members.map((m) => `127.0.0.1:${m.clientPort}`);
  const etcd: TestEtcd = {
    dir,
    tls,
    members,
    endpoints,
    url: `etcd://${endpoints.join(",")}`,
    async kill(index, signal = "SIGKILL") {
      const member = memberAt(members, index);
      if (signal === "SIGSTOP" || signal === "SIGCONT") {
        member.process?.kill(signal);
        return;
      }
      await terminate(member, signal);
    },
    async stop(index) {
      await terminate(memberAt(members, index), "SIGTERM");
    },
    async restart(index) {
      const member = memberAt(members, index);
      await terminate(member, "SIGTERM");
      launch(member);
      await waitHealthy([member], 30_000, tls);
    },
    async leader() {
      return leaderIndex(members);
    },
    async destroy() {
      await Promise.all(members.map((member) => terminate(member, "SIGKILL")));
      await rm(dir, { recursive: true, force: true });
    },
  };
  try {
    await waitHealthy(members, 30_000, tls);
  } catch (error) {
    await etcd.destroy();
    throw error;
  }
  return etcd;
}

function memberAt(members: EtcdMember[], index: number): EtcdMember {
  const member = members[index];
  if (member === undefined) throw new Error(`no etcd member ${index}`);
  return member;
}

function launchMember(member: EtcdMember, cluster: string, token: string, pki: string | undefined): ChildProcess {
  const log = openSync(member.logFile, "a");
  const client = `${pki === undefined ? "http" : "https"}://127.0.0.1:${member.clientPort}`;
  const peer = `http://127.0.0.1:${member.peerPort}`;
  const args = [
    `--name=${member.name}`,
    `--data-dir=${member.dataDir}`,
    `--listen-client-urls=${client}`,
    `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=${cluster}`,
    `--initial-cluster-token=${token}`,
    "--initial-cluster-state=new",
    "--logger=zap",
    "--log-level=warn",
    ...(pki === undefined
      ? []
      : [`--cert-file=${join(pki, "server.crt")}`, `--key-file=${join(pki, "server.key")}`, "--client-cert-auth", `--trusted-ca-file=${join(pki, "ca.crt")}`]),
  ];
  const child = spawn(ETCD_BINARY, args, { stdio: ["ignore", log, log] });
  closeSync(log);
  child.unref();
  return child;
}

async function terminate(member: EtcdMember, signal: NodeJS.Signals): Promise<void> {
  const child = member.process;
  member.process = undefined;
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGCONT");
  child.kill(signal);
  const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  await exited;
  clearTimeout(timer);
}

/** Wait until each member answers /health with a leader. */
async function waitHealthy(members: EtcdMember[], timeoutMs: number, tls: TestEtcdTls | undefined): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const member of members) {
    for (;;) {
      if (member.process?.exitCode !== null && member.process?.exitCode !== undefined) {
        throw new Error(`etcd member ${member.name} exited with ${member.process.exitCode}; see ${member.logFile}`);
      }
      if (await healthy(member, tls)) break;
      if (Date.now() > deadline) throw new Error(`etcd member ${member.name} did not become healthy in ${timeoutMs} ms; see ${member.logFile}`);
      await sleep(100);
    }
  }
}

async function healthy(member: EtcdMember, tls: TestEtcdTls | undefined): Promise<boolean> {
  const agent = tls === undefined ? undefined : new Agent({ connect: { ca: readFileSync(tls.ca), cert: readFileSync(tls.cert), key: readFileSync(tls.key) } });
  try {
    const scheme = tls === undefined ? "http" : "https";
    const response = await request(`${scheme}://127.0.0.1:${member.clientPort}/health`, { signal: AbortSignal.timeout(2000), ...(agent === undefined ? {} : { dispatcher: agent }) });
    const body = (await response.body.json()) as { health?: string };
    return body.health === "true";
  } catch {
    return false;
  } finally {
    await agent?.close();
  }
}

/** A CA, a server certificate for 127.0.0.1 and a client certificate, made with openssl in `dir`. */
function makeCertificates(dir: string): TestEtcdTls {
  const run = (...args: string[]): void => {
    execFileSync("openssl", args, { cwd: dir, stdio: "ignore" });
  };
  const key = (name: string): string[] => ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", `${name}.key`];
  run("req", "-x509", ...key("ca"), "-out", "ca.crt", "-subj", "/CN=holdfast test etcd CA", "-days", "2");
  // The server certificate also needs clientAuth: etcd's JSON gateway connects to its own gRPC port with it.
  for (const [name, usage] of [["server", "serverAuth,clientAuth"], ["client", "clientAuth"]] as const) {
    writeFileSync(join(dir, `${name}.ext`), `subjectAltName=IP:127.0.0.1\nextendedKeyUsage=${usage}\n`);
    run("req", ...key(name), "-out", `${name}.csr`, "-subj", `/CN=${name}`);
    run("x509", "-req", "-in", `${name}.csr`, "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", `${name}.crt`, "-days", "2", "-extfile", `${name}.ext`);
  }
  return { ca: join(dir, "ca.crt"), cert: join(dir, "client.crt"), key: join(dir, "client.key") };
}

async function leaderIndex(members: EtcdMember[]): Promise<number> {
  for (const member of members) {
    if (member.process === undefined) continue;
    try {
      const response = await fetch(`http://127.0.0.1:${member.clientPort}/v3/maintenance/status`, { method: "POST", body: "{}", signal: AbortSignal.timeout(2000) });
      const status = (await response.json()) as { leader?: string; header?: { member_id?: string } };
      if (status.leader !== undefined && status.leader === status.header?.member_id) return members.indexOf(member);
    } catch {
      // Not answering: ask the next one.
    }
  }
  throw new Error("no etcd member says it is the leader");
}

/** Ports the kernel hands out for :0 on loopback, never etcd's well-known ones. */
async function freePorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  while (ports.length < count) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => {
        const address = server.address();
        server.close(() => resolve(typeof address === "object" && address !== null ? address.port : 0));
      });
    });
    if (port !== 0 && port !== 2379 && port !== 2380 && !ports.includes(port)) ports.push(port);
  }
  return ports;
}
