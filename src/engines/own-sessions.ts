/**
 * What tells Holdfast's own logins to a database from anyone else's (the server's log, or its list of clients). Sessions
 * of this process (probes, replication setup, rotation; PostgreSQL's and Redis') by their client port: a login the
 * server reports from one of them is Holdfast's.
 * Tools this process runs (pg_dump, pg_basebackup) by an application_name with a random part made at start, given to
 * the tool in its environment (never argv), which nobody outside the process knows before they have logged in. A port
 * is remembered for REMEMBER_MS, far longer than the log takes to be read.
 * MariaDB's audit log gives no client port but the server's connection id: this process' `mariadb` clients tell theirs
 * (`connected`) as soon as the server has accepted them, and a login whose id one of them told is Holdfast's. A tool that
 * cannot tell its id (the clone's `mariadb-dump`) announces the one connection it is about to open (`expectConnection`).
 */
import { randomBytes } from "node:crypto";

const REMEMBER_MS = 10 * 60_000;
/**
 * A connection id counts only when it was told at most this long before the login was read: ids start again at 1
 * when a server restarts, so an id told long ago may now be someone else's.
 */
export const CONNECTION_ID_WINDOW_MS = 60_000;
/** How long an announced connection waits for its login. */
export const EXPECTED_CONNECTION_MS = 30_000;

/** Ports of this process' sessions, by when they were opened. */
export class OwnSessions {
  readonly #opened = new Map<number, number>();
  readonly #nonce = randomBytes(8).toString("hex");
  /** `<server port>/<connection id>` → when it was told. */
  readonly #connections = new Map<string, number>();
  /** Server port → when each connection announced to it is expected, oldest first. */
  readonly #expected = new Map<number, number[]>();

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

  /** A client of this process is connection `id` of the server on `serverPort`. */
  connected(serverPort: number, id: number, nowMs = Date.now()): void {
    const key = `${serverPort}/${id}`;
    this.#connections.delete(key);
    this.#connections.set(key, nowMs);
    for (const [old, at] of this.#connections) {
      if (nowMs - at <= REMEMBER_MS) break;
      this.#connections.delete(old);
    }
  }

  /**
   * True when a client of this process told connection `id` of the server on `serverPort` after `readMs` (when the
   * login was read) or at most CONNECTION_ID_WINDOW_MS before it.
   */
  holdsConnection(serverPort: number, id: number, readMs: number): boolean {
    const at = this.#connections.get(`${serverPort}/${id}`);
    return at !== undefined && readMs - at <= CONNECTION_ID_WINDOW_MS;
  }

  /** A tool of this process is about to open one connection to the server on `serverPort`. */
  expectConnection(serverPort: number, nowMs = Date.now()): void {
    const fresh = (this.#expected.get(serverPort) ?? []).filter((at) => nowMs - at <= EXPECTED_CONNECTION_MS);
    this.#expected.set(serverPort, [...fresh, nowMs]);
  }

  /**
   * True, once, when a connection to `serverPort` was announced within EXPECTED_CONNECTION_MS of `readMs` (when the
   * login was read): the announcement is used up by the first login it explains.
   */
  takeExpected(serverPort: number, readMs: number): boolean {
    const waiting = this.#expected.get(serverPort) ?? [];
    const index = waiting.findIndex((at) => Math.abs(readMs - at) <= EXPECTED_CONNECTION_MS);
    if (index === -1) return false;
    waiting.splice(index, 1);
    return true;
  }
}

/**
 * The sessions of this process: every session is opened through `withSession`, which notes its port here, and the
 * node agent's login watch reads it. One per process, as the ports are the process' own.
 */
export const HOLDFAST_SESSIONS = new OwnSessions();
