/** Store operation latency: a Store that times each call of the one it wraps, by operation and kind. */
import { Histogram, type Registry } from "prom-client";
import type { ObjectRef, Resource } from "../api/index.ts";
import type { DeleteOptions, ListOptions, ListResult, StaleHistoryPurge, Store, Watch, WatchEvent, WatchOptions, WriteOptions } from "../store/index.ts";
import type { HeldLease, Leases } from "../store/index.ts";

const STORE_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5];

/** The histogram every instrumented store (and its fenced views) reports to. */
export function storeHistogram(registry: Registry): Histogram<"operation" | "kind" | "outcome"> {
  return new Histogram({
    name: "holdfast_store_operation_duration_seconds",
    help: "Store operations (get, list, create, update, updateStatus, delete) by kind and outcome (ok, error)",
    labelNames: ["operation", "kind", "outcome"],
    buckets: STORE_BUCKETS,
    registers: [registry],
  });
}

/** `store`, with each read and write timed into `histogram`. */
export class InstrumentedStore implements Store {
  readonly #store: Store;
  readonly #histogram: Histogram<"operation" | "kind" | "outcome">;

  constructor(store: Store, histogram: Histogram<"operation" | "kind" | "outcome">) {
    this.#store = store;
    this.#histogram = histogram;
  }

  get leases(): Leases {
    return this.#store.leases;
  }

  fenced(lease: HeldLease): Store {
    return new InstrumentedStore(this.#store.fenced(lease), this.#histogram);
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
      this.#histogram.observe({ operation, kind, outcome }, (performance.now() - started) / 1000);
    }
  }
}
