/**
 * Every node's half of detection: it listens to its own audit log, keeps the events the rules read, and hands them to
 * the leader as SecuritySignal objects in the shared store (a batch at most every `flushMs`, written `flushMs` after
 * the first event of the batch was kept: no timer runs while nothing is kept). It also watches its audit file: a file
 * cut shorter than what was written, or replaced, is reported as tampering.
 */
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { DETECTION_API_VERSION, DETECTION_NAMESPACE, type SecuritySignal, type SignalEvent } from "../api/index.ts";
import { AUDIT_LOG_FILE, type AuditEventRecord, type AuditLog } from "../security/index.ts";
import type { Store } from "../store/index.ts";
import type { Logger } from "../util/index.ts";
import { SignalFilter } from "./signal-source.ts";

/** What a feed needs. */
export interface SignalFeedOptions {
  store: Store;
  audit: AuditLog;
  node: string;
  logger: Logger;
  adminGroups: readonly string[];
  /** How long after the first pending event the pending events are written (default 250 ms). */
  flushMs?: number;
  /** How often the audit file is checked (default 5 s). */
  watchdogMs?: number;
}

/** Events kept while the store cannot take them; beyond this the oldest are dropped (and the drop is logged). */
const MAX_PENDING = 10_000;

/** A node's signal feed; `stop()` flushes what is pending. */
export class SignalFeed {
  readonly #options: SignalFeedOptions;
  readonly #filter: SignalFilter;
  #pending: SignalEvent[] = [];
  #unsubscribe: (() => void) | undefined;
  #flushTimer: NodeJS.Timeout | undefined;
  #watchdogTimer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> | undefined;
  #inode: number | undefined;
  #tamperReported = false;
  #stopped = false;
  #batch = 0;

  constructor(options: SignalFeedOptions) {
    this.#options = options;
    this.#filter = new SignalFilter(options.adminGroups);
  }

  /** Subscribe to the audit log and start the timers. */
  async start(): Promise<void> {
    this.#inode = await this.#fileInode();
    this.#unsubscribe = this.#options.audit.subscribe((record, failure) => this.#observe(record, failure));
    this.#watchdogTimer = setInterval(() => void this.#checkFile(), this.#options.watchdogMs ?? 5000);
    this.#watchdogTimer.unref();
  }

  /** Stop listening and write what is pending. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#unsubscribe?.();
    clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    clearInterval(this.#watchdogTimer);
    await this.flush();
  }

  /** Write pending events as one SecuritySignal; on failure they stay pending for the next flush. */
  flush(): Promise<void> {
    this.#flushing ??= this.#write().finally(() => {
      this.#flushing = undefined;
      this.#scheduleFlush();
    });
    return this.#flushing;
  }

  /** Arm the flush timer when events are pending and none is armed (after a failed write too: they are retried). */
  #scheduleFlush(): void {
    if (this.#flushTimer !== undefined || this.#pending.length === 0 || this.#stopped) return;
    this.#flushTimer = setTimeout(() => {
      this.#flushTimer = undefined;
      void this.flush();
    }, this.#options.flushMs ?? 250);
    this.#flushTimer.unref();
  }

  #observe(record: AuditEventRecord | undefined, failure: Error | undefined): void {
    if (record !== undefined) {
      const signal = this.#filter.signalOf(record, this.#options.node);
      if (signal !== undefined) this.#push(signal);
      return;
    }
    if (failure !== undefined) this.#push(this.#problem("write-failed"));
  }

  #push(event: SignalEvent): void {
    this.#pending.push(event);
    if (this.#pending.length > MAX_PENDING) {
      const dropped = this.#pending.splice(0, this.#pending.length - MAX_PENDING).length;
      this.#options.logger.warn({ dropped }, "security signals dropped: the store has not taken them for a while");
    }
    this.#scheduleFlush();
  }

  #problem(problem: "write-failed" | "tampered"): SignalEvent {
    return {
      auditID: `node-${this.#options.node}-${Date.now()}`,
      time: new Date().toISOString(),
      node: this.#options.node,
      username: "system:holdfast",
      groups: [],
      sourceIP: "",
      verb: "audit",
      code: 0,
      auditProblem: problem,
    };
  }

  async #write(): Promise<void> {
    if (this.#pending.length === 0) return;
    const events = this.#pending.splice(0);
    this.#batch += 1;
    // Names sort in time order, so a leader that lists them reads the oldest first.
    const name = `${this.#options.node.toLowerCase().replace(/[^a-z0-9-]/g, "-").slice(0, 40)}-${Date.now().toString(36)}-${this.#batch.toString(36)}-${randomBytes(3).toString("hex")}`;
    const signal: SecuritySignal = {
      apiVersion: DETECTION_API_VERSION,
      kind: "SecuritySignal",
      metadata: { name: `signal-${name}`, namespace: DETECTION_NAMESPACE },
      spec: { node: this.#options.node, events },
    };
    try {
      await this.#options.store.create(signal);
    } catch (error) {
      this.#pending.unshift(...events);
      this.#options.logger.warn({ err: error, events: events.length }, "cannot hand security signals to the leader yet; retrying");
    }
  }

  async #fileInode(): Promise<number | undefined> {
    try {
      return (await stat(join(this.#options.audit.directory, AUDIT_LOG_FILE))).ino;
    } catch {
      return undefined;
    }
  }

  /** A log shorter than what this writer made durable, or another file in its place, was tampered with. */
  async #checkFile(): Promise<void> {
    const path = join(this.#options.audit.directory, AUDIT_LOG_FILE);
    const found = await stat(path).catch(() => undefined);
    const tampered = found === undefined || found.ino !== this.#inode || found.size < this.#options.audit.committedSize;
    if (tampered && !this.#tamperReported) {
      this.#options.logger.error({ path }, "the audit log was cut short, removed or replaced behind the server's back");
      this.#push(this.#problem("tampered"));
    }
    this.#tamperReported = tampered;
  }
}
