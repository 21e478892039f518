/**
 * The Database controller (ADR 0053): reports in status what the node agent of the component's primary applied (or
 * why it could not); on deletion, holds the object until no instance records the database any more (the primary
 * dropped it, reclaim policy delete, or let go of it, retain). The node agents do the work (src/agent/managed-databases.ts).
 */
import { DATABASE_FINALIZER, engineNameFor, type Cluster, type Database, type DatabaseStatus, type Instance } from "../../api/index.ts";
import type { Store } from "../../store/index.ts";
import { LABEL_INSTANCE, type EngineLookup } from "../cluster/index.ts";
import { splitKey, withFinalizer, withoutFinalizer, type EventRecorder, type ReconcileResult, type Reconciler } from "../runtime/index.ts";
import { databaseStatus, remainingRecords } from "./plan.ts";

/** How soon to look again while a database is being applied or dropped, and once it is in place. */
const SETTLING_MS = 1000;
const SETTLED_MS = 30_000;

export interface DatabaseReconcilerOptions {
  store: Store;
  engines: EngineLookup;
  events: EventRecorder;
}

export class DatabaseReconciler implements Reconciler {
  readonly #o: DatabaseReconcilerOptions;

  constructor(options: DatabaseReconcilerOptions) {
    this.#o = options;
  }

  async reconcile(key: string): Promise<ReconcileResult | undefined> {
    const { namespace = "default", name } = splitKey(key);
    const database = await this.#o.store.get<Database>({ kind: "Database", namespace, name });
    if (database === undefined) return undefined;
    const list = await this.#o.store.list<Instance>("Instance", { namespace, labelSelector: `${LABEL_INSTANCE}=${database.spec.clusterName}` });
    if (database.metadata.deletionTimestamp !== undefined) return this.#delete(database, list.items);
    const live = await withFinalizer(this.#o.store, database, DATABASE_FINALIZER);
    const cluster = await this.#o.store.get<Cluster>({ kind: "Cluster", namespace, name: database.spec.clusterName });
    if (cluster === undefined || !this.#hasDatabases(cluster, database.spec.componentName)) {
      const message = cluster === undefined ? `cluster ${database.spec.clusterName} not found` : `component ${database.spec.componentName} has no engine with named databases`;
      await this.#setStatus(live, { phase: "Failed", message });
      return { requeueAfterMs: SETTLED_MS };
    }
    const status = databaseStatus(live, list.items);
    await this.#setStatus(live, status);
    return { requeueAfterMs: status.phase === "Ready" ? SETTLED_MS : SETTLING_MS };
  }

  #hasDatabases(cluster: Cluster, component: string): boolean {
    const spec = cluster.spec.componentSpecs.find((c) => c.name === component);
    const name = spec === undefined ? undefined : engineNameFor(cluster, spec, this.#o.engines.list().map((e) => e.name));
    return name !== undefined && this.#o.engines.find(name)?.databases !== undefined;
  }

  /** Hold the object until no instance records the database; then let it go. */
  async #delete(database: Database, instances: readonly Instance[]): Promise<ReconcileResult | undefined> {
    const { holding, stopped } = remainingRecords(database, instances);
    const dropping = database.spec.databaseReclaimPolicy === "delete";
    if (holding.length > 0) {
      const waiting = stopped.length === 0 ? "" : `; ${stopped.join(", ")} not running: done when it runs again, or delete the instance`;
      await this.#setStatus(database, { phase: "Deleting", message: `${dropping ? "dropping" : "letting go of"} database ${database.spec.name} on ${holding.join(", ")}${waiting}` });
      return { requeueAfterMs: SETTLING_MS };
    }
    const done = dropping ? "dropped" : "kept on the server (databaseReclaimPolicy retain)";
    await this.#o.events.record(database, "Normal", dropping ? "Dropped" : "Retained", `database ${database.spec.name} ${done}`);
    await withoutFinalizer(this.#o.store, database, DATABASE_FINALIZER);
    return undefined;
  }

  async #setStatus(database: Database, status: DatabaseStatus): Promise<void> {
    const next = { ...database.status, ...status };
    if (status.phase !== "Ready" && status.phase !== "Pending") delete next.appliedOn;
    if (JSON.stringify(next) === JSON.stringify(database.status)) return;
    const updated = await this.#o.store.updateStatus<Database>({ ...database, status: next });
    if (status.phase !== database.status?.phase && (status.phase === "Ready" || status.phase === "Failed")) {
      await this.#o.events.record(updated, status.phase === "Ready" ? "Normal" : "Warning", status.phase === "Ready" ? "Applied" : "Failed", status.message ?? "");
    }
  }
}
