/**
 * Counters of what finished: switchovers and failovers with their durations, backups and restores with their bytes,
 * durations and outcomes. Fed by watches of Clusters, Backups and Instances; each kind is listed first (what already
 * finished is not counted) and listed again when its watch ends. The same watches keep the objects' gauges current
 * (ObjectTally), so a scrape never lists the store.
 */
import { Counter, Histogram, type Registry } from "prom-client";
import type { Backup, Cluster, Instance, Resource } from "../api/index.ts";
import type { Store, Watch } from "../store/index.ts";
import type { Logger } from "../util/index.ts";
import type { ObjectTally } from "./object-metrics.ts";
import { finishedBackup, finishedRestore, finishedRoleChanges } from "./transitions.ts";

const DURATION_BUCKETS = [0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900, 3600];
const RELIST_MS = 1000;

/** The counters, and the watches that feed them. */
export class TransitionMetrics {
  readonly #store: Store;
  readonly #logger: Logger;
  readonly #tally: ObjectTally;
  readonly #watches = new Map<string, Watch>();
  readonly #roleChanges: Counter<"reason" | "result">;
  readonly #roleChangeSeconds: Histogram<"reason" | "result">;
  readonly #backups: Counter<"method" | "outcome">;
  readonly #backupSeconds: Histogram<"method" | "outcome">;
  readonly #backupBytes: Counter<"method" | "stage">;
  readonly #restores: Counter<"outcome">;
  readonly #restoreSeconds: Histogram<"outcome">;
  readonly #restoreBytes: Counter<"outcome">;
  #stopped = false;

  constructor(registry: Registry, watched: { store: Store; logger: Logger; tally: ObjectTally }) {
    this.#store = watched.store;
    this.#logger = watched.logger;
    this.#tally = watched.tally;
    const registers = [registry];
    this.#roleChanges = new Counter({ name: "holdfast_role_changes_total", help: "Switchovers and failovers that finished, by reason and result", labelNames: ["reason", "result"], registers });
    this.#roleChangeSeconds = new Histogram({ name: "holdfast_role_change_duration_seconds", help: "Time from the start of a switchover or failover to its end", labelNames: ["reason", "result"], buckets: DURATION_BUCKETS, registers });
    this.#backups = new Counter({ name: "holdfast_backups_finished_total", help: "Backups that reached Completed or Failed, by method and outcome", labelNames: ["method", "outcome"], registers });
    this.#backupSeconds = new Histogram({ name: "holdfast_backup_duration_seconds", help: "Time a backup took, from start to completion", labelNames: ["method", "outcome"], buckets: DURATION_BUCKETS, registers });
    this.#backupBytes = new Counter({ name: "holdfast_backup_bytes_total", help: "Bytes of completed backups: plaintext read from the database, and stored (compressed, encrypted)", labelNames: ["method", "stage"], registers });
    this.#restores = new Counter({ name: "holdfast_restores_finished_total", help: "Restores of an instance's data from a backup that ended, by outcome", labelNames: ["outcome"], registers });
    this.#restoreSeconds = new Histogram({ name: "holdfast_restore_duration_seconds", help: "Time a restore of an instance's data took", labelNames: ["outcome"], buckets: DURATION_BUCKETS, registers });
    this.#restoreBytes = new Counter({ name: "holdfast_restore_bytes_total", help: "Backup bytes read by restores that ended", labelNames: ["outcome"], registers });
  }

  /** List and watch the kinds. */
  async start(): Promise<void> {
    await Promise.all(["Cluster", "Backup", "Instance"].map((kind) => this.#follow(kind)));
  }

  stop(): void {
    this.#stopped = true;
    for (const watch of this.#watches.values()) watch.stop();
    this.#watches.clear();
  }

  async #follow(kind: string): Promise<void> {
    const list = await this.#store.list(kind);
    const known = new Map(list.items.map((object) => [keyOf(object), object]));
    this.#tally.relisted(kind, list.items);
    const watch = this.#store.watch(
      { kind, resourceVersion: list.resourceVersion },
      (event) => {
        const key = keyOf(event.object);
        const before = known.get(key);
        if (event.type === "DELETED") {
          known.delete(key);
          this.#tally.deleted(event.object);
        } else {
          known.set(key, event.object);
          this.#tally.changed(event.object);
        }
        if (event.type !== "DELETED") this.#count(kind, before, event.object);
      },
      (error) => this.#relist(kind, error),
    );
    this.#watches.set(kind, watch);
  }

  #relist(kind: string, error: Error): void {
    if (this.#stopped) return;
    this.#logger.debug({ kind, err: error.message }, "metrics watch ended; listing again");
    this.#follow(kind).catch(() => setTimeout(() => this.#relist(kind, error), RELIST_MS).unref());
  }

  #count(kind: string, before: Resource | undefined, after: Resource): void {
    if (kind === "Cluster") this.#countRoleChanges(before as Cluster | undefined, after as Cluster);
    else if (kind === "Backup") this.#countBackup(before as Backup | undefined, after as Backup);
    else this.#countRestore(before as Instance | undefined, after as Instance);
  }

  #countRoleChanges(before: Cluster | undefined, after: Cluster): void {
    for (const change of finishedRoleChanges(before, after)) {
      const labels = { reason: change.reason, result: change.result };
      this.#roleChanges.inc(labels);
      if (change.seconds !== undefined) this.#roleChangeSeconds.observe(labels, change.seconds);
    }
  }

  #countBackup(before: Backup | undefined, after: Backup): void {
    const finished = finishedBackup(before, after);
    if (finished === undefined) return;
    const labels = { method: finished.method, outcome: finished.outcome };
    this.#backups.inc(labels);
    if (finished.seconds !== undefined) this.#backupSeconds.observe(labels, finished.seconds);
    if (finished.bytes !== undefined) this.#backupBytes.inc({ method: finished.method, stage: "plaintext" }, finished.bytes);
    if (finished.storedBytes !== undefined) this.#backupBytes.inc({ method: finished.method, stage: "stored" }, finished.storedBytes);
  }

  #countRestore(before: Instance | undefined, after: Instance): void {
    const finished = finishedRestore(before, after, Date.now());
    if (finished === undefined) return;
    const labels = { outcome: finished.outcome };
    this.#restores.inc(labels);
    if (finished.seconds !== undefined) this.#restoreSeconds.observe(labels, finished.seconds);
    this.#restoreBytes.inc(labels, finished.bytes);
  }
}

function keyOf(object: Resource): string {
  return `${object.metadata.namespace ?? ""}/${object.metadata.name}`;
}
