/**
 * What the objects say: clusters by phase, instances by phase and role, backups by phase, restores under way, and
 * how far behind the continuous backups' archives are (WAL archive lag). Counted per namespace, so the label values
 * are bounded by what exists.
 *
 * The counts are kept up to date from the watches of Clusters, Instances and Backups (each object's share is taken
 * out and put back when it changes), so a scrape reads sums instead of listing and decoding every object.
 */
import { Gauge, type Registry } from "prom-client";
import type { Backup, Cluster, Instance, Resource } from "../api/index.ts";
import { isArchiving } from "../dataprotection/index.ts";

/** One gauge sample. */
export interface Sample {
  labels: Record<string, string>;
  value: number;
}

/** The gauges an object counts in. */
type GaugeName = "clusters" | "instances" | "backups" | "walArchiveEnd" | "restoreBytes";

/** One object's part of one gauge. */
interface Share extends Sample {
  gauge: GaugeName;
}

function clusterShares(cluster: Cluster): Share[] {
  return [{ gauge: "clusters", labels: { namespace: cluster.metadata.namespace ?? "", phase: cluster.status?.phase ?? "Creating" }, value: 1 }];
}

/** An instance counts by its role as the running server answered it, else the wanted one; and its restore's bytes. */
function instanceShares(instance: Instance): Share[] {
  const namespace = instance.metadata.namespace ?? "";
  const role = instance.status?.replicationState?.role ?? instance.status?.role ?? instance.spec.role ?? "";
  const shares: Share[] = [{ gauge: "instances", labels: { namespace, engine: instance.spec.engine, phase: instance.status?.phase ?? "Pending", role }, value: 1 }];
  const progress = instance.status?.restoreProgress;
  if (progress !== undefined) shares.push({ gauge: "restoreBytes", labels: { namespace, cluster: instance.spec.clusterName }, value: progress.bytesDone });
  return shares;
}

/** A backup counts by method and phase; an archiving one also by the end of what it holds (Unix ms). */
function backupShares(backup: Backup): Share[] {
  const namespace = backup.metadata.namespace ?? "";
  const shares: Share[] = [{ gauge: "backups", labels: { namespace, method: backup.spec.backupMethod, phase: backup.status?.phase ?? "New" }, value: 1 }];
  const end = backup.status?.timeRange?.end;
  const endMs = end === undefined ? Number.NaN : Date.parse(end);
  if (isArchiving(backup) && !Number.isNaN(endMs)) {
    const cluster = backup.metadata.labels?.["app.kubernetes.io/instance"] ?? "";
    shares.push({ gauge: "walArchiveEnd", labels: { namespace, backup: backup.metadata.name, cluster }, value: endMs });
  }
  return shares;
}

function sharesOf(object: Resource): Share[] {
  if (object.kind === "Cluster") return clusterShares(object as Cluster);
  if (object.kind === "Instance") return instanceShares(object as Instance);
  if (object.kind === "Backup") return backupShares(object as Backup);
  return [];
}

/** Sums of samples with equal labels, and how many objects make each. */
class Sums {
  readonly #sums = new Map<string, Sample & { members: number }>();

  add(sample: Sample, sign: 1 | -1): void {
    const key = JSON.stringify(sample.labels);
    const sum = this.#sums.get(key) ?? { labels: sample.labels, value: 0, members: 0 };
    sum.value += sign * sample.value;
    sum.members += sign;
    // A sum no object makes any more is dropped, as a fresh listing would not show it.
    if (sum.members <= 0) this.#sums.delete(key);
    else this.#sums.set(key, sum);
  }

  samples(): Sample[] {
    return [...this.#sums.values()].map(({ labels, value }) => ({ labels, value }));
  }
}

/**
 * The objects' shares of each gauge, kept as the objects change: O(shares of one object) per watch event, O(label
 * combinations) per scrape.
 */
export class ObjectTally {
  readonly #shares = new Map<string, Share[]>();
  readonly #sums = new Map<GaugeName, Sums>();

  /** Replace everything known of `kind` by a fresh listing of it. */
  relisted(kind: string, objects: readonly Resource[]): void {
    for (const key of [...this.#shares.keys()]) if (key.startsWith(`${kind}/`)) this.#replace(key, []);
    for (const object of objects) this.changed(object);
  }

  /** `object` was added or modified. */
  changed(object: Resource): void {
    this.#replace(tallyKey(object), sharesOf(object));
  }

  /** `object` was deleted. */
  deleted(object: Resource): void {
    this.#replace(tallyKey(object), []);
  }

  /** The samples of one gauge. */
  samples(gauge: GaugeName): Sample[] {
    return this.#sums.get(gauge)?.samples() ?? [];
  }

  #replace(key: string, shares: Share[]): void {
    for (const share of this.#shares.get(key) ?? []) this.#sumsOf(share.gauge).add(share, -1);
    for (const share of shares) this.#sumsOf(share.gauge).add(share, 1);
    if (shares.length === 0) this.#shares.delete(key);
    else this.#shares.set(key, shares);
  }

  #sumsOf(gauge: GaugeName): Sums {
    let sums = this.#sums.get(gauge);
    if (sums === undefined) {
      sums = new Sums();
      this.#sums.set(gauge, sums);
    }
    return sums;
  }
}

function tallyKey(object: Resource): string {
  return `${object.kind}/${object.metadata.namespace ?? ""}/${object.metadata.name}`;
}

/** The samples of `gauge` that `objects` make (each counted, whatever its name). */
function samplesOf(objects: readonly Resource[], gauge: GaugeName): Sample[] {
  const sums = new Sums();
  for (const share of objects.flatMap(sharesOf)) if (share.gauge === gauge) sums.add(share, 1);
  return sums.samples();
}

/** Clusters per namespace and phase. */
export function clusterSamples(clusters: readonly Cluster[]): Sample[] {
  return samplesOf(clusters, "clusters");
}

/** Instances per namespace, engine, phase and role (the role the running server answered with, else the wanted one). */
export function instanceSamples(instances: readonly Instance[]): Sample[] {
  return samplesOf(instances, "instances");
}

/** Backups per namespace, method and phase. */
export function backupSamples(backups: readonly Backup[]): Sample[] {
  return samplesOf(backups, "backups");
}

/** Seconds between `nowMs` and the end of what each archiving continuous backup holds. */
export function walArchiveLag(ends: readonly Sample[], nowMs: number): Sample[] {
  return ends.map(({ labels, value }) => ({ labels, value: Math.max(0, (nowMs - value) / 1000) }));
}

/** Seconds between now and the end of what each archiving continuous backup holds. */
export function walArchiveLagSamples(backups: readonly Backup[], nowMs: number): Sample[] {
  return walArchiveLag(samplesOf(backups, "walArchiveEnd"), nowMs);
}

/** Bytes restored so far by each instance whose data is being restored from a backup. */
export function restoreSamples(instances: readonly Instance[]): Sample[] {
  return samplesOf(instances, "restoreBytes");
}

/** Register the gauges; `tally` is kept current by the watches (TransitionMetrics). */
export function registerObjectMetrics(registry: Registry, tally: ObjectTally): void {
  const gauge = (name: string, help: string, labelNames: string[], samples: () => Sample[]): void => {
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        for (const sample of samples()) this.set(sample.labels, sample.value);
      },
    });
  };
  gauge("holdfast_clusters", "Clusters by namespace and phase", ["namespace", "phase"], () => tally.samples("clusters"));
  gauge("holdfast_instances", "Instances by namespace, engine, phase and role", ["namespace", "engine", "phase", "role"], () => tally.samples("instances"));
  gauge("holdfast_backups", "Backups by namespace, method and phase", ["namespace", "method", "phase"], () => tally.samples("backups"));
  gauge("holdfast_wal_archive_lag_seconds", "Seconds since the newest moment an archiving continuous backup holds", ["namespace", "backup", "cluster"], () => walArchiveLag(tally.samples("walArchiveEnd"), Date.now()));
  gauge("holdfast_restore_bytes", "Bytes restored so far by instances being restored from a backup", ["namespace", "cluster"], () => tally.samples("restoreBytes"));
}
