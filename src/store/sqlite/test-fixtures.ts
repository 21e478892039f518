/** Helpers shared by the store's tests: a throwaway store file and objects to put in it. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { OwnerReference, Resource } from "../../api/index.ts";
import type { Store, WatchEvent, WatchOptions } from "../types.ts";
import { openSqliteStore, type SqliteStoreOptions } from "./sqlite-store.ts";

/** A temporary directory with a store file path in it, removed by `cleanup`. */
export interface TempStore {
  dir: string;
  path: string;
  open(options?: Omit<SqliteStoreOptions, "path">): Store;
  cleanup(): void;
}

/** Make a temporary store location; every store opened through it is closed by `cleanup`. */
export function tempStore(): TempStore {
  const dir = mkdtempSync(join(tmpdir(), "holdfast-store-"));
  const path = join(dir, "store.db");
  const opened: Store[] = [];
  return {
    dir,
    path,
    open(options = {}) {
      const store = openSqliteStore({ ...options, path });
      opened.push(store);
      return store;
    },
    cleanup() {
      for (const store of opened) store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
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
  waitFor(count: number, timeoutMs?: number): Promise<WatchEvent[]>;
  stop(): void;
}

/** Watch and collect every event. */
export function collect(store: Store, options: WatchOptions, onEach?: (event: WatchEvent) => void): Collected {
  const events: WatchEvent[] = [];
  const watch = store.watch(options, (event) => {
    events.push(event);
    onEach?.(event);
  });
  return {
    events,
    stop: () => watch.stop(),
    async waitFor(count, timeoutMs = 2000) {
      const deadline = Date.now() + timeoutMs;
      while (events.length < count) {
        if (Date.now() > deadline) throw new Error(`expected ${count} watch events, got ${events.length}`);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      return events;
    },
  };
}

/** Names and types of events, for exact comparisons. */
export function summarize(events: WatchEvent[]): string[] {
  return events.map((event) => `${event.type} ${event.object.kind}/${event.object.metadata.name}`);
}
