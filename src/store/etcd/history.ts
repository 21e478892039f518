/**
 * etcd's history is the watch backlog: events become store changes here, and compaction (periodic, as
 * kube-apiserver does it, or on demand) decides how far back a watch can resume.
 */
import { randomUUID } from "node:crypto";
import { errorMessage, UnavailableError } from "../../errors/index.ts";
import type { StaleHistoryPurge } from "../types.ts";
import type { Change, WatchErrorHandler } from "../watch-hub.ts";
import type { EtcdClient } from "./client.ts";
import type { KeyLayout } from "./layout.ts";
import type { StoredObjects } from "./stored-object.ts";
import type { Revisions } from "./transactions.ts";
import { CompactedError, watchRange, type EtcdWatchEvent } from "./watch-stream.ts";

const SCAN_TIMEOUT_MS = 120_000;

/** Compaction and the translation of etcd events. */
export class HistoryKeeper {
  private readonly client: EtcdClient;
  private readonly layout: KeyLayout;
  private readonly revisions: Revisions;
  private readonly onError: WatchErrorHandler;
  private timer: NodeJS.Timeout | undefined;

  constructor(client: EtcdClient, layout: KeyLayout, revisions: Revisions, onError: WatchErrorHandler) {
    this.client = client;
    this.layout = layout;
    this.revisions = revisions;
    this.onError = onError;
  }

  /** Read how far this store's history was compacted. */
  async load(): Promise<void> {
    const kv = (await this.client.range({ key: this.layout.meta("compacted") })).kvs[0];
    this.revisions.compacted = Math.max(this.revisions.compacted, Number(kv?.value ?? 0));
  }

  /** The store change of an etcd event under the registry; undefined for bookkeeping keys or an undecodable value. */
  toChange(event: EtcdWatchEvent, objects: StoredObjects): Change | undefined {
    if (!event.kv.key.startsWith(this.layout.registry())) return undefined;
    const revision = event.kv.modRevision;
    try {
      if (event.type === "DELETE") {
        return event.prevKv === undefined ? undefined : { resourceVersion: revision, type: "DELETED", object: objects.decodeListed(event.prevKv, revision) };
      }
      const type = event.kv.createRevision === revision ? "ADDED" : "MODIFIED";
      return { resourceVersion: revision, type, object: objects.decodeListed(event.kv) };
    } catch (error) {
      this.onError(new Error(`the change of ${event.kv.key} at ${revision} could not be decoded: ${errorMessage(error)}`));
      return undefined;
    }
  }

  /** A watch found history compacted further than this process knew. */
  noteGone(error: Error): void {
    if (error instanceof CompactedError) this.revisions.compacted = Math.max(this.revisions.compacted, error.compactRevision);
  }

  /** Drop history through the newest change whose stored form is stale. */
  async purgeStale(objects: StoredObjects): Promise<StaleHistoryPurge> {
    // A marker written now bounds the scan: once the watch reaches it, every earlier change has been seen.
    const until = await this.client.put(this.layout.meta("history-scan"), randomUUID());
    const events = await this.scan(until);
    const registry = events.filter((event) => event.kv.key.startsWith(this.layout.registry()));
    const stale = registry.filter((event) => event.type === "PUT" && objects.isStale(event.kv)).map((event) => event.kv.modRevision);
    const newest = stale.length === 0 ? undefined : Math.max(...stale);
    if (newest === undefined) return { purged: 0, compactedThrough: String(this.revisions.compacted) };
    await this.compactThrough(newest);
    return { purged: registry.filter((event) => event.kv.modRevision <= newest).length, compactedThrough: String(newest) };
  }

  /** Drop all history (before a defragmentation scrubs it from disk). */
  async compactAll(): Promise<void> {
    const status = await this.client.status();
    await this.compactThrough(status.revision);
  }

  /** Every `intervalMs`, compact through the revision seen at the previous tick, keeping one interval of history. */
  startCompaction(intervalMs: number): void {
    if (intervalMs <= 0) return;
    let previous = this.revisions.latest;
    this.timer = setInterval(() => {
      const through = previous;
      previous = this.revisions.latest;
      if (through > this.revisions.compacted) this.compactThrough(through).catch((error: unknown) => this.onError(error));
    }, intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
  }

  private async compactThrough(revision: number): Promise<void> {
    await this.client.compact(revision);
    this.revisions.compacted = Math.max(this.revisions.compacted, revision);
    await this.client.put(this.layout.meta("compacted"), String(this.revisions.compacted));
  }

  /** Every event under the prefix from the start of history through revision `until`. */
  private async scan(until: number): Promise<EtcdWatchEvent[]> {
    for (;;) {
      try {
        return await this.scanFrom(this.revisions.compacted + 1, until);
      } catch (error) {
        if (!(error instanceof CompactedError)) throw error;
        this.noteGone(error);
      }
    }
  }

  private scanFrom(from: number, until: number): Promise<EtcdWatchEvent[]> {
    return new Promise((resolve, reject) => {
      const seen: EtcdWatchEvent[] = [];
      const timer = setTimeout(() => finish(new UnavailableError(`reading the store's history through revision ${until} took too long; retry`)), SCAN_TIMEOUT_MS);
      const finish = (error?: Error): void => {
        clearTimeout(timer);
        watch.cancel();
        if (error === undefined) resolve(seen);
        else reject(error);
      };
      const watch = watchRange(this.client, { key: this.layout.prefix, prefix: true }, from, {
        onEvents: (events) => {
          seen.push(...events.filter((event) => event.kv.modRevision <= until));
          if (events.some((event) => event.kv.modRevision >= until)) finish();
        },
        onError: (error) => finish(error),
      });
    });
  }
}
