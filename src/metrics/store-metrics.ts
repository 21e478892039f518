/**
 * Store operation latency: a Store that times each call of the one it wraps, by operation and outcome, and counts the
 * calls by kind too. The latency is not split by kind: with some forty kinds, six operations and two outcomes, a
 * histogram by kind was four fifths of the exposition, and every scrape wrote all of it.
 */
import { Counter, Histogram, type Registry } from "prom-client";
import type { ObjectRef, Resource } from "../api/index.ts";
import type { DeleteOptions, ListOptions, ListResult, StaleHistoryPurge, Store, Watch, WatchEvent, WatchOptions, WriteOptions } from "../store/index.ts";
import type { HeldLease, Leases } from "../store/index.ts";

const STORE_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5];

/** What every instrumented store (and its fenced views) reports to. */
export interface StoreMetrics {
  latency: Histogram<"operation" | "outcome">;
  operations: Counter<"operation" | "kind" | "outcome">;
}

/** The store's latency histogram and operation counter, registered in `registry`. */
export function storeMetrics(registry: Registry): StoreMetrics {
  return {
    latency: new Histogram({
      name: "holdfast_store_operation_duration_seconds",
      help: "Store operations (get, list, create, update, updateStatus, delete) by outcome (ok, error)",
      labelNames: ["operation", "outcome"],
      buckets: STORE_BUCKETS,
      registers: [registry],
    }),
    operations: new Counter({
      name: "holdfast_store_operations_total",
      help: "Store operations (get, list, create, update, updateStatus, delete) by kind and outcome (ok, error)",
      labelNames: ["operation", "kind", "outcome"],
      registers: [registry],
    }),
  };
}

/** `store`, with each read and write timed and counted into `metrics`. */
export class InstrumentedStore implements Store {
  readonly #store: Store;
  readonly #metrics: StoreMetrics;

  constructor(store: Store, metrics: StoreMetrics) {
    this.#store = store;
    this.#metrics = metrics;
  }

  get leases(): Leases {
    return this.#store.leases;
  }

  fenced(lease: HeldLease): Store {
    return new InstrumentedStore(this.#store.fenced(lease), this.#metrics);
  }

  get<T extends Resource = Resource>(ref: ObjectRef): Promise<T | undefined> {
    return this.#timed("get", ref.kind, () => this.#store.get<T>(ref));
  }

  list<T extends Resource = Resource>(kind: string, options?: ListOptions): Promise<ListResult<T>> {
    return this.#timed("list", kind, () => this.#store.list<T>(kind, options));
  }

  create<T extends Resource>(object: T, options?: WriteOptions): Promise<T> {
    return this.#timed("create", object.kind, () => this.#store.create(object, options));
  }

  update<T extends Resource>(object: T, options?: WriteOptions): Promise<T> {
    return this.#timed("update", object.kind, () => this.#store.update(object, options));
  }

  updateStatus<T extends Resource>(object: T, options?: WriteOptions): Promise<T> {
    return this.#timed("updateStatus", object.kind, () => this.#store.updateStatus(object, options));
  }

  delete<T extends Resource = Resource>(ref: ObjectRef, options?: DeleteOptions): Promise<T | undefined> {
    return this.#timed("delete", ref.kind, () => this.#store.delete<T>(ref, options));
  }

  watch(options: WatchOptions, onEvent: (event: WatchEvent) => void, onError?: (error: Error) => void): Watch {
    return this.#store.watch(options, onEvent, onError);
  }

  purgeStaleHistory(): Promise<StaleHistoryPurge> {
    return this.#store.purgeStaleHistory();
  }

  scrubDeletedData(): Promise<void> {
    return this.#store.scrubDeletedData();
  }

  close(): void {
    this.#store.close();
  }

  async #timed<T>(operation: string, kind: string, call: () => Promise<T>): Promise<T> {
    const started = performance.now();
    let outcome = "error";
    try {
      const result = await call();
      outcome = "ok";
      return result;
    } finally {
      this.#metrics.latency.observe({ operation, outcome }, (performance.now() - started) / 1000);
      this.#metrics.operations.inc({ operation, kind, outcome });
    }
  }
}
