/** What the store contract tests need: a harness per implementation, objects to store, and watch collectors. */
import type { OwnerReference, Resource } from "../../api/index.ts";
import type { StorageCodec, Store, WatchEvent, WatchOptions } from "../types.ts";

/** How the contract suite reaches one store implementation. */
export interface StoreHarness {
  /** Its name in test titles. */
  name: string;
  /** Open a store on a fresh, empty keyspace (closed by `cleanup`). */
  open(options?: { codec?: StorageCodec; onWatchError?: (error: unknown) => void }): Promise<Store>;
  /** Drop the change history through `resourceVersion`, as a compaction does. */
  compact(store: Store, resourceVersion: string): Promise<void>;
  /** Close what `open` opened and remove it; runs after each test. */
  cleanup(): Promise<void>;
}

/** A Cluster with a spec and optional labels. */
export function cluster(name: string, options: { namespace?: string; labels?: Record<string, string>; replicas?: number } = {}): Resource {
  const metadata = { name, namespace: options.namespace ?? "default", ...(options.labels ? { labels: options.labels } : {}) };
  return { apiVersion: "apps.kubeblocks.io/v1", kind: "Cluster", metadata, spec: { replicas: options.replicas ?? 1 } };
}

/** An Instance owned by `owner`. */
export function ownedInstance(name: string, owner: Resource, finalizers: string[] = []): Resource {
  const reference: OwnerReference = { apiVersion: owner.apiVersion, kind: owner.kind, name: owner.metadata.name, uid: owner.metadata.uid ?? "" };
  const metadata = { name, namespace: "default", ownerReferences: [reference], ...(finalizers.length > 0 ? { finalizers } : {}) };
  return { apiVersion: "holdfast.io/v1alpha1", kind: "Instance", metadata, spec: {} };
}

/** Events of a watch, with a way to wait for a number of them. */
export interface Collected {
  events: WatchEvent[];
  /** The error the watch ended with, if it did. */
  error: Error | undefined;
  waitFor(count: number, timeoutMs?: number): Promise<WatchEvent[]>;
  stop(): void;
}

/** Watch and collect every event. */
export function collect(store: Store, options: WatchOptions, onEach?: (event: WatchEvent) => void): Collected {
  const events: WatchEvent[] = [];
  const collected: Collected = {
    events,
    error: undefined,
    stop: () => watch.stop(),
    async waitFor(count, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (events.length < count) {
        if (Date.now() > deadline) throw new Error(`expected ${count} watch events, got ${events.length}`);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      return events;
    },
  };
  const watch = store.watch(
    options,
    (event) => {
      events.push(event);
      onEach?.(event);
    },
    (error) => (collected.error = error),
  );
  return collected;
}

/** How a watch from `options` ends within `timeoutMs`: the error it throws or reports, or undefined when it runs on. */
export async function watchFailure(store: Store, options: WatchOptions, timeoutMs = 3000): Promise<unknown> {
  try {
    return await new Promise<unknown>((resolve) => {
      const watch = store.watch(options, () => undefined, resolve);
      setTimeout(() => {
        watch.stop();
        resolve(undefined);
      }, timeoutMs);
    });
  } catch (error) {
    return error;
  }
}

/** Names and types of events, for exact comparisons. */
export function summarize(events: WatchEvent[]): string[] {
  return events.map((event) => `${event.type} ${event.object.kind}/${event.object.metadata.name}`);
}

/** Wait a little for things that should not happen to have their chance. */
export function settle(ms = 100): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Wait until `condition` holds; fail after `timeoutMs`. */
export async function until(condition: () => boolean, timeoutMs = 5000, what = "a condition"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await settle(5);
  }
}
