/**
 * What tells Holdfast's own logins to a database from anyone else's (the server's log, or its list of clients). Sessions
 * of this process (probes, replication setup, rotation; PostgreSQL's and Redis') by their client port: a login the
 * server reports from one of them is Holdfast's.
 * Tools this process runs (pg_dump, pg_basebackup) by an application_name with a random part made at start, given to
 * the tool in its environment (never argv), which nobody outside the process knows before they have logged in. A port
 * is remembered for REMEMBER_MS, far longer than the log takes to be read.
 */
import { randomBytes } from "node:crypto";

const REMEMBER_MS = 10 * 60_000;

/** Ports of this process' sessions, by when they were opened. */
export class OwnSessions {
  readonly #opened = new Map<number, number>();
  readonly #nonce = randomBytes(8).toString("hex");

  /** The application_name of a tool run for `purpose` (letters and underscores). */
  toolApplicationName(purpose: string): string {
    return `holdfast_${purpose}_${this.#nonce}`;
  }

  /** True when `applicationName` is one this process gave a tool. */
  ownsApplicationName(applicationName: string): boolean {
    return applicationName.startsWith("holdfast_") && applicationName.endsWith(`_${this.#nonce}`);
  }

  /** A session was opened from local `port`. */
  opened(port: number | undefined, nowMs = Date.now()): void {
    if (port === undefined) return;
    this.#opened.delete(port);
    this.#opened.set(port, nowMs);
    // Oldest first (insertion order): forget what is past its time.
    for (const [old, at] of this.#opened) {
      if (nowMs - at <= REMEMBER_MS) break;
      this.#opened.delete(old);
    }
  }

  /** True when a session of this process was opened from local `port` lately. */
  holds(port: number, nowMs = Date.now()): boolean {
    const at = this.#opened.get(port);
    return at !== undefined && nowMs - at <= REMEMBER_MS;
  }
}

/**
 * The sessions of this process: every session is opened through `withSession`, which notes its port here, and the
 * node agent's login watch reads it. One per process, as the ports are the process' own.
 */
export const HOLDFAST_SESSIONS = new OwnSessions();
