/**
 * Holdfast on the lab, for `failover-multihost`: the PostgreSQL example with 3 replicas (one per host by placement),
 * its primary lease set per cluster, a writer through the read-write endpoint of the host it runs in.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { Cluster, Instance } from "../src/api/index.ts";
import type { Lab, LabHostPlan } from "../src/lab/index.ts";
import { installedPostgresMajor } from "../test/helpers/clients.ts";
import { exampleWith } from "../test/helpers/manifests.ts";
import { CLIENT_SETTINGS, type WriterTarget } from "./lab-writer.ts";
import type { FailoverSystem } from "./multihost-trials.ts";

const NS = "demo";
const NAME = "pg-cluster";

/** A libpq keyword/value: quoted, with `\` and `'` escaped. */
export function conninfoValue(value: string): string {
  return `'${value.replaceAll("\\", "\\\\").replaceAll("'", "\\'")}'`;
}

/** A pgpass field: `:` and `\` escaped. */
export function pgpassField(value: string): string {
  return value.replaceAll("\\", "\\\\").replaceAll(":", "\\:");
}

export class HoldfastSystem implements FailoverSystem {
  readonly name = "Holdfast";
  readonly leaseMs: number;
  #passFile = "";

  readonly #lab: Lab;
  readonly #benchHome: string;

  constructor(lab: Lab, benchHome: string, leaseSeconds: number) {
    this.#lab = lab;
    this.#benchHome = benchHome;
    this.leaseMs = leaseSeconds * 1000;
  }

  /** The CLI against the first host whose API answers (a killed or cut host does not). */
  async #cli(args: string[], input?: string): Promise<string> {
    let last = "";
    for (const host of this.#lab.hosts) {
      const result = await this.#lab.holdfast(host, args, { timeoutMs: 20_000, ...(input === undefined ? {} : { input }) });
      if (result.code === 0) return result.stdout;
      last = `${host.name}: ${result.stderr.trim()}`;
    }
    throw new Error(`holdfast ${args.slice(0, 3).join(" ")} failed on every host; last: ${last}`);
  }

  /** Create the cluster and wait until it runs. */
  async create(leaseSeconds: number): Promise<void> {
    const major = await installedPostgresMajor();
    await this.#cli(["create", "namespace", NS]);
    const manifest = await exampleWith("postgresql/cluster.yaml", (doc) => {
      doc["metadata"].annotations = { "holdfast.io/ha-lease-seconds": String(leaseSeconds) };
      doc["spec"].componentSpecs[0].replicas = 3;
      doc["spec"].componentSpecs[0].serviceVersion = major;
    });
    await this.#cli(["apply", "-f", "-"], manifest);
    const waited = await this.#lab.holdfast(1, ["wait", `cluster/${NAME}`, "-n", NS, "--for=phase=Running", "--timeout=300s"], { timeoutMs: 320_000 });
    if (waited.code !== 0) throw new Error(`the Holdfast cluster did not run: ${waited.stderr}\n${await this.diagnosis()}`);
  }

  /** Delete the cluster (Patroni's trials run on an idle Holdfast). */
  async remove(): Promise<void> {
    await this.#cli(["delete", "cluster", NAME, "-n", NS]);
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline && (await this.#instances().catch(() => [])).length > 0) await sleep(1_000);
  }

  async #instances(): Promise<Instance[]> {
    const list = JSON.parse(await this.#cli(["get", "instances", "-n", NS, "-o", "json"])) as { items: Instance[] };
    return list.items.filter((i) => i.spec.clusterName === NAME);
  }

  async #settledOnce(): Promise<LabHostPlan | undefined> {
    const cluster = JSON.parse(await this.#cli(["get", "cluster", NAME, "-n", NS, "-o", "json"])) as Cluster;
    const record = cluster.status?.replication?.["postgresql"];
    if (record?.currentPrimary === undefined || record.targetPrimary !== record.currentPrimary) return undefined;
    const all = await this.#instances();
    const primary = all.find((i) => i.metadata.name === record.currentPrimary && i.status?.role === "primary" && i.status.ready === true);
    const replicas = all.filter((i) => i.metadata.name !== record.currentPrimary && i.status?.role === "secondary" && i.status.ready === true && i.status.replication?.state === "streaming");
    const spread = new Set(all.map((i) => i.spec.nodeName)).size === 3;
    if (primary?.spec.nodeName === undefined || replicas.length !== 2 || !spread) return undefined;
    return this.#lab.host(primary.spec.nodeName);
  }

  async settled(timeoutMs: number): Promise<LabHostPlan> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const primary = await this.#settledOnce().catch(() => undefined);
      if (primary !== undefined) return primary;
      if (performance.now() > deadline) throw new Error(`Holdfast: no primary with two streaming replicas, one per host, after ${timeoutMs / 1000} s`);
      await sleep(500);
    }
  }

  /** The read-write endpoint on `from` itself, as `cluster connect --show-uri` through that host prints it. */
  async target(from: LabHostPlan): Promise<WriterTarget> {
    const shown = await this.#lab.holdfast(from, ["cluster", "connect", NAME, "-n", NS, "--show-uri"]);
    if (shown.code !== 0) throw new Error(`cluster connect on ${from.name}: ${shown.stderr}`);
    const uri = new URL(shown.stdout.trim());
    const user = decodeURIComponent(uri.username);
    if (this.#passFile === "") {
      this.#passFile = join(this.#benchHome, "holdfast.pgpass");
      await writeFile(this.#passFile, `*:*:*:${pgpassField(user)}:${pgpassField(decodeURIComponent(uri.password))}\n`, { mode: 0o600 });
    }
    const words = [`host=${uri.hostname}`, `port=${uri.port}`, `user=${conninfoValue(user)}`, `dbname=${conninfoValue(uri.pathname.slice(1) || "postgres")}`];
    for (const [key, value] of uri.searchParams) words.push(`${key}=${conninfoValue(value)}`);
    return { conninfo: `${words.join(" ")} ${CLIENT_SETTINGS}`, hosts: 1, passFile: this.#passFile };
  }

  /** The table the writers fill, made through any host's endpoint. */
  async prepare(): Promise<void> {
    const target = await this.target(this.#lab.host(1));
    const result = await this.#lab.exec(1, ["psql", "-X", "-v", "ON_ERROR_STOP=1", target.conninfo, "-c", "CREATE TABLE IF NOT EXISTS bench_writes (id bigint PRIMARY KEY)"], { env: { ...process.env, PGPASSFILE: target.passFile } });
    if (result.code !== 0) throw new Error(`creating the table: ${result.stderr}`);
  }

  restarted(): Promise<void> {
    return Promise.resolve();
  }

  async controllersLeader(): Promise<string | undefined> {
    const lease = JSON.parse(await this.#cli(["get", "lease", "holdfast-controllers", "-n", "holdfast-system", "-o", "json"])) as { spec?: { holderIdentity?: string } };
    return lease.spec?.holderIdentity;
  }

  async diagnosis(): Promise<string> {
    const lines: string[] = [];
    try {
      const cluster = JSON.parse(await this.#cli(["get", "cluster", NAME, "-n", NS, "-o", "json"])) as Cluster;
      lines.push(`cluster replication: ${JSON.stringify(cluster.status?.replication)}`);
      for (const i of await this.#instances()) lines.push(`${i.metadata.name} on ${i.spec.nodeName ?? "?"}: ${JSON.stringify({ role: i.status?.role, ready: i.status?.ready, phase: i.status?.phase, replication: i.status?.replication, primaryLease: i.status?.primaryLease })}`);
      lines.push((await this.#cli(["get", "events", "-n", NS])).split("\n").slice(-25).join("\n"));
    } catch (error) {
      lines.push(`the API did not answer: ${String(error)}`);
    }
    lines.push(`node homes (server logs): ${this.#lab.hosts.map((h) => h.home).join(", ")}`);
    return lines.join("\n");
  }
}
