/**
 * What the objects say at scrape time: clusters by phase, instances by phase and role, backups by phase, restores
 * under way, and how far behind the continuous backups' archives are (WAL archive lag). Counted per namespace, so
 * the label values are bounded by what exists.
 */
import { Gauge, type Registry } from "prom-client";
import type { Backup, Cluster, Instance } from "../api/index.ts";
import { isArchiving } from "../dataprotection/index.ts";
import type { Store } from "../store/index.ts";

/** One gauge sample. */
export interface Sample {
  labels: Record<string, string>;
  value: number;
}

/** Clusters per namespace and phase. */
export function clusterSamples(clusters: readonly Cluster[]): Sample[] {
  return countBy(clusters.map((cluster) => ({ namespace: cluster.metadata.namespace ?? "", phase: cluster.status?.phase ?? "Creating" })));
}

/** Instances per namespace, engine, phase and role (the role the running server answered with, else the wanted one). */
export function instanceSamples(instances: readonly Instance[]): Sample[] {
  return countBy(
    instances.map((instance) => ({
      namespace: instance.metadata.namespace ?? "",
      engine: instance.spec.engine,
      phase: instance.status?.phase ?? "Pending",
      role: instance.status?.replicationState?.role ?? instance.status?.role ?? instance.spec.role ?? "",
    })),
  );
}

/** Backups per namespace, method and phase. */
export function backupSamples(backups: readonly Backup[]): Sample[] {
  return countBy(backups.map((backup) => ({ namespace: backup.metadata.namespace ?? "", method: backup.spec.backupMethod, phase: backup.status?.phase ?? "New" })));
}

/** Seconds between now and the end of what each archiving continuous backup holds. */
export function walArchiveLagSamples(backups: readonly Backup[], nowMs: number): Sample[] {
  const samples: Sample[] = [];
  for (const backup of backups) {
    const end = backup.status?.timeRange?.end;
    if (!isArchiving(backup) || end === undefined) continue;
    const endMs = Date.parse(end);
    if (Number.isNaN(endMs)) continue;
    const cluster = backup.metadata.labels?.["app.kubernetes.io/instance"] ?? "";
    samples.push({ labels: { namespace: backup.metadata.namespace ?? "", backup: backup.metadata.name, cluster }, value: Math.max(0, (nowMs - endMs) / 1000) });
  }
  return samples;
}

/** Bytes restored so far by each instance whose data is being restored from a backup. */
export function restoreSamples(instances: readonly Instance[]): Sample[] {
  return sumBy(
    instances.flatMap((instance) => {
      const progress = instance.status?.restoreProgress;
      if (progress === undefined) return [];
      return [{ labels: { namespace: instance.metadata.namespace ?? "", cluster: instance.spec.clusterName }, value: progress.bytesDone }];
    }),
  );
}

function countBy(rows: readonly Record<string, string>[]): Sample[] {
  return sumBy(rows.map((labels) => ({ labels, value: 1 })));
}

function sumBy(samples: readonly Sample[]): Sample[] {
  const sums = new Map<string, Sample>();
  for (const { labels, value } of samples) {
    const key = JSON.stringify(labels);
    const sum = sums.get(key) ?? { labels, value: 0 };
    sum.value += value;
    sums.set(key, sum);
  }
  return [...sums.values()];
}

interface Snapshot {
  clusters: Cluster[];
  instances: Instance[];
  backups: Backup[];
  at: number;
}

/** Gauges filled from one listing of the store per scrape (shared by every gauge of the same scrape). */
export function registerObjectMetrics(registry: Registry, store: Store): void {
  let pending: Promise<Snapshot> | undefined;
  const snapshot = (): Promise<Snapshot> => {
    pending ??= takeSnapshot(store).finally(() => {
      // One listing serves the gauges of one scrape; the next scrape lists again.
      setImmediate(() => (pending = undefined));
    });
    return pending;
  };
  const gauge = (name: string, help: string, labelNames: string[], samples: (s: Snapshot) => Sample[]): void => {
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      async collect() {
        const current = await snapshot();
        this.reset();
        for (const sample of samples(current)) this.set(sample.labels, sample.value);
      },
    });
  };
  gauge("holdfast_clusters", "Clusters by namespace and phase", ["namespace", "phase"], (s) => clusterSamples(s.clusters));
  gauge("holdfast_instances", "Instances by namespace, engine, phase and role", ["namespace", "engine", "phase", "role"], (s) => instanceSamples(s.instances));
  gauge("holdfast_backups", "Backups by namespace, method and phase", ["namespace", "method", "phase"], (s) => backupSamples(s.backups));
  gauge("holdfast_wal_archive_lag_seconds", "Seconds since the newest moment an archiving continuous backup holds", ["namespace", "backup", "cluster"], (s) => walArchiveLagSamples(s.backups, s.at));
  gauge("holdfast_restore_bytes", "Bytes restored so far by instances being restored from a backup", ["namespace", "cluster"], (s) => restoreSamples(s.instances));
}

async function takeSnapshot(store: Store): Promise<Snapshot> {
  const [clusters, instances, backups] = await Promise.all([store.list<Cluster>("Cluster"), store.list<Instance>("Instance"), store.list<Backup>("Backup")]);
  return { clusters: clusters.items, instances: instances.items, backups: backups.items, at: Date.now() };
}
