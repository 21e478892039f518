/**
 * The store, SQLite and etcd side by side, in one run:
 *  1. create / update / get / list throughput with CONCURRENCY calls in flight, and watch latency (write call to
 *     event delivered) under a paced update load, p50/p99;
 *  2. etcd's own put rate in the same run: raw puts of values of the same size through the same v3 JSON gateway and
 *     connection pool with the same concurrency, with none of the store's work (no compare, no read, no codec), so
 *     the ratio is what the Kubernetes semantics cost on top of etcd;
 *  3. clusters reconciled per second by one control plane at 1,000 clusters: a simulated load (Cluster and Instance
 *     objects, no processes) through the real controller runtime, each reconcile a get, a label-selected list of the
 *     cluster's instances and a status write.
 * Writes go through the Store interface the API server writes through (after its admission), with all of the store's
 * own work: key checks, merge rules, the change history, the group commit and its fsync. The machine is shared, so
 * the load average is printed, and so is the CPU this process spent per create and update: that figure depends far
 * less on other work than the rates do (on SQLite, rate ≈ calls in flight ÷ (calls in flight × CPU per write + one
 * fsync), every caller of a group waiting for its one commit).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { Resource } from "../src/api/index.ts";
import { Controller } from "../src/controllers/runtime/index.ts";
import { EtcdClient, openEtcdStore, openSqliteStore, type Store } from "../src/store/index.ts";
import { silentLogger } from "../src/util/index.ts";
import { startEtcd } from "../test/helpers/etcd.ts";
import { median, percentile } from "./stats.ts";

const COUNT = Number(process.env["BENCH_STORE_COUNT"] ?? 5000);
const CONCURRENCY = Number(process.env["BENCH_STORE_CONCURRENCY"] ?? 64);
const WATCH_RATE = Number(process.env["BENCH_STORE_WATCH_RATE"] ?? 50);
const WATCH_SECONDS = Number(process.env["BENCH_STORE_WATCH_SECONDS"] ?? 5);
const CLUSTERS = Number(process.env["BENCH_STORE_CLUSTERS"] ?? 1000);
const INSTANCES_PER_CLUSTER = 3;
const NAMESPACES = 50;
const WORKERS = Number(process.env["BENCH_STORE_WORKERS"] ?? 16);

interface Figures {
  create: number;
  update: number;
  /** CPU time of this process per create and per update, in µs. */
  createCpu: number;
  updateCpu: number;
  get: number;
  list: number;
  watchP50: number;
  watchP99: number;
  clustersPerSecond: number;
}

export async function storeBenchmark(): Promise<void> {
  console.log(`Store: ${COUNT} objects, ${CONCURRENCY} calls in flight; watch latency at ${WATCH_RATE} updates/s for ${WATCH_SECONDS} s;`);
  console.log(`reconcile: ${CLUSTERS} clusters × ${INSTANCES_PER_CLUSTER} instances in ${NAMESPACES} namespaces, ${WORKERS} workers (simulated: objects only, no processes)`);
  console.log(`load average at start: ${loadAverage()}\n`);
  const dir = await mkdtemp(join(tmpdir(), "holdfast-bench-store-"));
  const etcd = await startEtcd();
  try {
    const sqlite = openSqliteStore({ path: join(dir, "store.db") });
    const sqliteFigures = await measure("sqlite", sqlite);
    sqlite.close();
    const store = await openEtcdStore({ endpoints: etcd.endpoints, compactionIntervalMs: 0 });
    const etcdFigures = await measure("etcd", store);
    store.close();
    const raw = await rawPutRate(etcd.endpoints);
    report(sqliteFigures, etcdFigures, raw);
  } finally {
    await etcd.destroy();
    await rm(dir, { recursive: true, force: true });
  }
}

function object(index: number, replicas = 1): Resource {
  return {
    apiVersion: "apps.kubeblocks.io/v1",
    kind: "Cluster",
    metadata: { name: `bench-${index}`, namespace: "bench", labels: { "app.kubernetes.io/instance": `bench-${index}` } },
    spec: { clusterDef: "postgresql", topology: "replication", componentSpecs: [{ name: "postgresql", replicas, resources: { limits: { cpu: "1", memory: "1Gi" } } }] },
  };
}

function loadAverage(): string {
  return loadavg().map((value) => value.toFixed(2)).join(", ");
}

/** `throughput`, and the CPU time this process spent per call (µs). */
async function throughputAndCpu(count: number, work: (index: number) => Promise<unknown>): Promise<{ rate: number; cpu: number }> {
  const before = process.cpuUsage();
  const rate = await throughput(count, CONCURRENCY, work);
  const spent = process.cpuUsage(before);
  return { rate, cpu: (spent.user + spent.system) / count };
}

/** Run `work(i)` for i in [0, count) with `concurrency` in flight; returns calls per second. */
async function throughput(count: number, concurrency: number, work: (index: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const started = performance.now();
  const worker = async (): Promise<void> => {
    while (next < count) {
      const index = next++;
      await work(index);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return count / ((performance.now() - started) / 1000);
}

async function measure(name: string, store: Store): Promise<Figures> {
  const create = await throughputAndCpu(COUNT, (i) => store.create(object(i)));
  const update = await throughputAndCpu(COUNT, (i) => store.update(object(i, 2)));
  const get = await throughput(COUNT, CONCURRENCY, (i) => store.get({ kind: "Cluster", namespace: "bench", name: `bench-${i}` }));
  const lists = Math.max(10, Math.round(200_000 / COUNT));
  const list = await throughput(lists, 4, () => store.list("Cluster", { namespace: "bench" }));
  const latencies = await watchLatency(store);
  const clustersPerSecond = await reconcileRate(store);
  const figures = { create: create.rate, createCpu: create.cpu, update: update.rate, updateCpu: update.cpu, get, list: list * COUNT, watchP50: median(latencies), watchP99: percentile(latencies, 99), clustersPerSecond };
  console.log(`  ${name} measured (load average ${loadAverage()})`);
  return figures;
}

/** Paced updates; latency from just before each update call to the watch delivering that change. */
async function watchLatency(store: Store): Promise<number[]> {
  const sent = new Map<string, number>();
  const latencies: number[] = [];
  const watch = store.watch({ kind: "Cluster", namespace: "bench" }, (event) => {
    const key = `${event.object.metadata.name}/${String((event.object.spec as { componentSpecs: { replicas: number }[] }).componentSpecs[0]?.replicas)}`;
    const at = sent.get(key);
    if (at !== undefined) latencies.push(performance.now() - at);
    sent.delete(key);
  });
  const total = WATCH_RATE * WATCH_SECONDS;
  const started = performance.now();
  const pending: Promise<unknown>[] = [];
  for (let i = 0; i < total; i++) {
    const wait = started + (i * 1000) / WATCH_RATE - performance.now();
    if (wait > 1) await sleep(wait);
    const replicas = 10 + i;
    sent.set(`bench-${i % COUNT}/${replicas}`, performance.now());
    pending.push(store.update(object(i % COUNT, replicas)));
  }
  await Promise.all(pending);
  const deadline = performance.now() + 5000;
  while (latencies.length < total && performance.now() < deadline) await sleep(10);
  watch.stop();
  return latencies;
}

/** Clusters/s through the controller runtime: 1,000 clusters, their instances, one reconcile each. */
async function reconcileRate(store: Store): Promise<number> {
  const clusters = Array.from({ length: CLUSTERS }, (_, i) => i);
  await throughput(CLUSTERS, CONCURRENCY, async (i) => {
    const namespace = `tenant-${i % NAMESPACES}`;
    const name = `db-${i}`;
    const owner = await store.create<Resource>({ ...object(i), metadata: { name, namespace, labels: { "app.kubernetes.io/instance": name } } });
    for (let n = 0; n < INSTANCES_PER_CLUSTER; n++) {
      await store.create<Resource>({
        apiVersion: "holdfast.io/v1alpha1",
        kind: "Instance",
        metadata: {
          name: `${name}-postgresql-${n}`,
          namespace,
          labels: { "app.kubernetes.io/instance": name },
          ownerReferences: [{ apiVersion: owner.apiVersion, kind: owner.kind, name, uid: owner.metadata.uid ?? "" }],
        },
        spec: { nodeName: "node-1" },
      });
    }
  });
  const done = new Set<string>();
  let finished: () => void = () => undefined;
  const all = new Promise<void>((resolve) => (finished = resolve));
  const controller = new Controller({
    name: "bench",
    store,
    logger: silentLogger(),
    workers: WORKERS,
    watches: [{ kind: "Cluster" }],
    reconciler: {
      async reconcile(key) {
        const [namespace = "", name = ""] = key.split("/");
        if (!name.startsWith("db-") || done.has(key)) return undefined;
        const cluster = await store.get({ kind: "Cluster", namespace, name });
        if (cluster === undefined) return undefined;
        const instances = await store.list("Instance", { namespace, labelSelector: `app.kubernetes.io/instance=${name}` });
        await store.updateStatus({ ...cluster, status: { phase: "Running", observedGeneration: cluster.metadata.generation, members: instances.items.length } });
        done.add(key);
        if (done.size === clusters.length) finished();
        return undefined;
      },
    },
  });
  const started = performance.now();
  await controller.start();
  await all;
  const rate = CLUSTERS / ((performance.now() - started) / 1000);
  await controller.stop();
  return rate;
}

/** etcd's own put rate: raw puts of a value the size of a stored Cluster, same gateway, pool and concurrency. */
async function rawPutRate(endpoints: string[]): Promise<number> {
  const client = new EtcdClient({ endpoints });
  const value = JSON.stringify(object(0));
  try {
    await throughput(500, CONCURRENCY, (i) => client.put(`/bench-raw/warm-${i}`, value));
    return await throughput(COUNT, CONCURRENCY, (i) => client.put(`/bench-raw/${i}`, value));
  } finally {
    await client.close();
  }
}

function report(sqlite: Figures, etcd: Figures, rawPut: number): void {
  const row = (label: string, a: string, b: string): void => console.log(`${label.padEnd(34)}${a.padStart(14)}${b.padStart(14)}`);
  const rate = (value: number): string => `${value.toFixed(0)}/s`;
  const ms = (value: number): string => `${value.toFixed(2)} ms`;
  console.log("");
  row("", "sqlite", "etcd");
  row("create", rate(sqlite.create), rate(etcd.create));
  row("update (read + guarded write)", rate(sqlite.update), rate(etcd.update));
  row("CPU per create / update", `${sqlite.createCpu.toFixed(0)}/${sqlite.updateCpu.toFixed(0)} µs`, `${etcd.createCpu.toFixed(0)}/${etcd.updateCpu.toFixed(0)} µs`);
  row("get", rate(sqlite.get), rate(etcd.get));
  row(`list (objects read, ${COUNT} per list)`, rate(sqlite.list), rate(etcd.list));
  row("watch latency p50", ms(sqlite.watchP50), ms(etcd.watchP50));
  row("watch latency p99", ms(sqlite.watchP99), ms(etcd.watchP99));
  row(`clusters reconciled (${CLUSTERS}, simulated)`, rate(sqlite.clustersPerSecond), rate(etcd.clustersPerSecond));
  console.log(`\netcd's own put rate (raw puts, same gateway, ${CONCURRENCY} in flight): ${rate(rawPut)}`);
  const ratio = rawPut / etcd.create;
  console.log(`store create on etcd vs raw put: ${ratio.toFixed(2)}× slower (goal: within 3× → ${ratio <= 3 ? "met" : "NOT met"})`);
  const writes = Math.min(sqlite.create, sqlite.update);
  console.log(`SQLite writes: ${rate(writes)} (lower of create and update; goal ≥ 5000/s → ${writes >= 5000 ? "met" : "NOT met"})`);
}
