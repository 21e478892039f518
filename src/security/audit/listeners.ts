/**
 * The audit log's subscribers, told off the request path: durable events wait in a bounded queue that is handed to
 * the listeners in one batch on a later turn of the event loop, so an append resolves as soon as its record is
 * durable whatever the listeners do, and a listener's work is paid once per batch, not inside each request.
 */
import type { AuditEventRecord } from "./record.ts";

/** Told each event once it is durable, and once the failure that stops the log. */
export type AuditListener = (record: AuditEventRecord | undefined, failure?: Error) => void;

/** Durable events told per turn at most; past this the oldest waiting are dropped (and counted). */
export const MAX_UNTOLD = 10_000;

/** A durable event, or the failure that stopped the log: queued as they are, nothing allocated per event. */
type Untold = AuditEventRecord | Error;

/** The listeners and what they have not been told yet. */
export class AuditListeners {
  readonly #listeners = new Set<AuditListener>();
  #untold: Untold[] = [];
  #scheduled = false;
  #dropped = 0;

  /** Add `listener`; returns how to remove it. */
  add(listener: AuditListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Events dropped because the queue was full (never expected: it is emptied every turn). */
  get dropped(): number {
    return this.#dropped;
  }

  /** Queue `record` (or the log's failure) for the listeners: O(1), nothing awaited. */
  tell(record: AuditEventRecord | undefined, failure?: Error): void {
    if (this.#listeners.size === 0) return;
    const untold = record ?? failure;
    if (untold === undefined) return;
    this.#untold.push(untold);
    if (this.#untold.length > MAX_UNTOLD) {
      this.#untold.shift();
      this.#dropped += 1;
    }
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => this.#drain());
  }

  #drain(): void {
    this.#scheduled = false;
    const batch = this.#untold;
    this.#untold = [];
    for (const untold of batch) {
      const record = untold instanceof Error ? undefined : untold;
      const failure = untold instanceof Error ? untold : undefined;
      for (const listener of this.#listeners) tellOne(listener, record, failure);
    }
  }
}

/** A listener's failure must not reach the log or the other listeners. */
function tellOne(listener: AuditListener, record: AuditEventRecord | undefined, failure: Error | undefined): void {
  try {
    listener(record, failure);
  } catch {
    // The listener reports its own problems; the audit record is durable whatever it does.
  }
}
