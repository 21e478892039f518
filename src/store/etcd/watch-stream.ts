/**
 * An etcd watch over the JSON gateway's streaming `/v3/watch`: events from a start revision, in revision order,
 * resumed on another member from the next revision when a member goes away, and ended with GoneError when the
 * revisions it still needs were compacted.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { Readable } from "node:stream";
import { GoneError } from "../../errors/index.ts";
import { tooOldResourceVersion } from "../object-rules.ts";
import type { EtcdClient, KeyRange } from "./client.ts";
import { b64, prefixEndB64, toKeyValue, watchMessageSchema, type KeyValue } from "./wire.ts";

/** The watch needs revisions etcd has compacted; `compactRevision` is where history starts now. */
export class CompactedError extends GoneError {
  readonly compactRevision: number;

  constructor(message: string, compactRevision: number) {
    super(message);
    this.compactRevision = compactRevision;
  }
}

/** One change seen by an etcd watch. */
export interface EtcdWatchEvent {
  type: "PUT" | "DELETE";
  kv: KeyValue;
  /** The value before the change (always asked for; absent for a create). */
  prevKv: KeyValue | undefined;
}

/** Receives a watch's events and its end. */
export interface EtcdWatchHandlers {
  /** A batch of events, all of one revision or of consecutive ones, in order. */
  onEvents(events: EtcdWatchEvent[]): void;
  /** The watch ended by itself: GoneError when history it needs was compacted. Nothing follows. */
  onError(error: Error): void;
}

/** A running etcd watch. */
export interface EtcdWatch {
  cancel(): void;
}

const MAX_BACKOFF_MS = 2000;

/** Watch `range` from `startRevision` (inclusive; 0 means from now). */
export function watchRange(client: EtcdClient, range: KeyRange, startRevision: number, handlers: EtcdWatchHandlers): EtcdWatch {
  const abort = new AbortController();
  const state = { next: startRevision, stopped: false };
  void follow(client, range, state, abort.signal, handlers);
  return {
    cancel() {
      if (state.stopped) return;
      state.stopped = true;
      abort.abort();
    },
  };
}

interface WatchState {
  next: number;
  stopped: boolean;
}

/** Read through a function, so a check after an await sees a cancel made meanwhile. */
function cancelled(state: WatchState): boolean {
  return state.stopped;
}

async function follow(client: EtcdClient, range: KeyRange, state: WatchState, signal: AbortSignal, handlers: EtcdWatchHandlers): Promise<void> {
  let backoff = 50;
  while (!state.stopped && !client.isClosed) {
    try {
      const body = await client.openStream("/watch", createRequest(range, state.next), signal);
      await readMessages(body, state, handlers, () => (backoff = 50));
    } catch (error) {
      if (cancelled(state)) return;
      if (error instanceof GoneError) {
        state.stopped = true;
        handlers.onError(error);
        return;
      }
    }
    // The stream ended or no member took it: resume from the next revision once a member answers again.
    if (cancelled(state)) return;
    await sleep(backoff, undefined, { signal }).catch(() => undefined);
    backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
  }
}

function createRequest(range: KeyRange, startRevision: number): unknown {
  const end = range.prefix === true ? prefixEndB64(range.key) : range.end === undefined ? undefined : b64(range.end);
  return {
    create_request: {
      key: b64(range.key),
      ...(end === undefined ? {} : { range_end: end }),
      ...(startRevision > 0 ? { start_revision: String(startRevision) } : {}),
      prev_kv: true,
    },
  };
}

async function readMessages(body: Readable, state: WatchState, handlers: EtcdWatchHandlers, onHealthy: () => void): Promise<void> {
  let pending = "";
  const decoder = new TextDecoder();
  try {
    for await (const chunk of body) {
      pending += decoder.decode(chunk as Uint8Array, { stream: true });
      let newline = pending.indexOf("\n");
      while (newline >= 0) {
        const line = pending.slice(0, newline).trim();
        pending = pending.slice(newline + 1);
        if (line !== "") handleMessage(line, state, handlers, onHealthy);
        if (state.stopped) return;
        newline = pending.indexOf("\n");
      }
    }
    if (pending.trim() !== "") handleMessage(pending.trim(), state, handlers, onHealthy);
  } finally {
    body.destroy();
  }
}

function handleMessage(line: string, state: WatchState, handlers: EtcdWatchHandlers, onHealthy: () => void): void {
  const message = watchMessageSchema.parse(JSON.parse(line));
  if ("error" in message) throw new Error(message.error.message ?? message.error.error ?? "the watch failed");
  const result = message.result;
  if (result.canceled === true) {
    const compacted = Number(result.compact_revision);
    if (compacted > 0) {
      throw new CompactedError(tooOldResourceVersion(state.next - 1, compacted).message, compacted);
    }
    throw new Error(result.cancel_reason ?? "the watch was cancelled");
  }
  onHealthy();
  const events = (result.events ?? []).map(
    (event): EtcdWatchEvent => ({
      type: event.type === "DELETE" ? "DELETE" : "PUT",
      kv: toKeyValue(event.kv),
      prevKv: event.prev_kv === undefined ? undefined : toKeyValue(event.prev_kv),
    }),
  );
  const last = events.at(-1);
  if (last === undefined) return;
  state.next = last.kv.modRevision + 1;
  handlers.onEvents(events);
}
