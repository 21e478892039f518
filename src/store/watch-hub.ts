/** Delivers committed changes to watchers: in order, asynchronously, each watcher on its own queue. */
import type { Resource } from "../api/index.ts";
import { matchesLabelSelector, type LabelSelector } from "./label-selector.ts";
import type { Watch, WatchEvent } from "./types.ts";
import { jsonCopy } from "./object-rules.ts";

/** A committed change, in plaintext, for watchers. */
export interface Change {
  resourceVersion: number;
  type: "ADDED" | "MODIFIED" | "DELETED";
  object: Resource;
}

/** What a watcher wants to see. */
export interface WatchFilter {
  kind: string | undefined;
  namespace: string | undefined;
  selector: LabelSelector;
}

/** Receives failures of watch callbacks, which must never reach the writer. */
export type WatchErrorHandler = (error: unknown) => void;

/** Whether a change passes a filter. */
export function matchesFilter(filter: WatchFilter, object: Resource): boolean {
  if (filter.kind !== undefined && object.kind !== filter.kind) return false;
  if (filter.namespace !== undefined && (object.metadata.namespace ?? "") !== filter.namespace) return false;
  return matchesLabelSelector(filter.selector, object.metadata.labels);
}

/** One watcher: a queue drained in a microtask, never inside the writer's call. */
export class Watcher implements Watch {
  private queue: WatchEvent[] = [];
  private head = 0;
  private scheduled = false;
  private stopped = false;
  private ending: (() => void) | undefined;
  private readonly onEvent: (event: WatchEvent) => void;
  private readonly onError: WatchErrorHandler;
  private readonly onStop: (watcher: Watcher) => void;
  readonly filter: WatchFilter;

  constructor(filter: WatchFilter, onEvent: (event: WatchEvent) => void, onError: WatchErrorHandler, onStop: (watcher: Watcher) => void) {
    this.filter = filter;
    this.onEvent = onEvent;
    this.onError = onError;
    this.onStop = onStop;
  }

  enqueue(change: Change): void {
    if (this.stopped || this.ending !== undefined || !matchesFilter(this.filter, change.object)) return;
    this.queue.push({ type: change.type, object: jsonCopy(change.object) });
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => this.drain());
  }

  /** End the watch after the events already queued: `last` runs once they are delivered, and nothing follows. */
  end(last: () => void): void {
    if (this.stopped || this.ending !== undefined) return;
    this.ending = last;
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => this.drain());
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.queue = [];
    this.head = 0;
    this.onStop(this);
  }

  private drain(): void {
    // Events enqueued by a callback (a write made from inside onEvent) are delivered by this same loop, in order.
    while (!this.stopped && this.head < this.queue.length) {
      const event = this.queue[this.head];
      this.head += 1;
      if (event !== undefined) this.deliver(event);
    }
    this.queue = [];
    this.head = 0;
    this.scheduled = false;
    const last = this.ending;
    if (last === undefined || this.stopped) return;
    this.stop();
    try {
      last();
    } catch (error) {
      this.onError(error);
    }
  }

  private deliver(event: WatchEvent): void {
    try {
      this.onEvent(event);
    } catch (error) {
      this.onError(error);
    }
  }
}

/** The set of running watches. */
export class WatchHub {
  private readonly watchers = new Set<Watcher>();
  private readonly onError: WatchErrorHandler;

  constructor(onError: WatchErrorHandler) {
    this.onError = onError;
  }

  /** Start a watch that first delivers `backlog` (already filtered by kind and namespace), then live changes. */
  add(filter: WatchFilter, onEvent: (event: WatchEvent) => void, backlog: Change[]): Watcher {
    const watcher = new Watcher(filter, onEvent, this.onError, (stopped) => this.watchers.delete(stopped));
    for (const change of backlog) watcher.enqueue(change);
    this.watchers.add(watcher);
    return watcher;
  }

  /** Hand committed changes to every watcher. */
  publish(changes: Change[]): void {
    for (const watcher of this.watchers) {
      for (const change of changes) watcher.enqueue(change);
    }
  }

  /** Stop every watch (the store is closing). */
  stopAll(): void {
    for (const watcher of [...this.watchers]) watcher.stop();
  }
}
