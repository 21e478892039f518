/**
 * Logins read out of a PostgreSQL log (`log_connections = on`): "connection received" gives the client's address and
 * port, "connection authorized" the account and application_name, both under the backend's pid (`[%p]` of
 * Holdfast's `log_line_prefix`). A login the server refused is its FATAL line under the same pid: "password
 * authentication failed for user" (any method's "… authentication failed"), or "no pg_hba.conf entry".
 */
import { lineTime } from "../log-time.ts";
import type { DatabaseLogin } from "../types.ts";

const RECEIVED = "LOG:  connection received: ";
const AUTHORIZED = "LOG:  connection authorized: ";
const PID = /\[(\d{1,10})\]/;
/** A refused login: the method's failure (password, scram, cert…) or no rule of pg_hba.conf for the client. */
const AUTHENTICATION_FAILED = /FATAL: {2}[\w-]{1,32} authentication failed for user "(.{0,200})"$/u;
const NO_HBA_ENTRY = /FATAL: {2}no pg_hba\.conf entry for (?:replication connection from )?host "[^"]{0,200}", user "(.{0,200}?)"(?:, database "(.{0,200}?)")?, /u;
/** Backends whose authorization is still awaited; past this the oldest are forgotten. */
const MAX_WAITING = 1000;
/**
 * PostgreSQL's authentication_timeout (default 1 min): a connection authorized this long after the first line read
 * without its "received" line was received before the log was followed, and is not taken for a login from nowhere.
 */
const BEFORE_FOLLOWING_MS = 60_000;

/** The superuser whose logins are watched. */
export const POSTGRESQL_SUPERUSERS: readonly string[] = ["postgres"];

/**
 * The `key=value` fields after `marker` (split on spaces: values the server writes there have none, and a client's
 * application_name with a space ends at it), with no backtracking on a line a client partly chose.
 */
function fieldsAfter(line: string, marker: string): Map<string, string> | undefined {
  const at = line.indexOf(marker);
  if (at === -1) return undefined;
  const fields = new Map<string, string>();
  for (const word of line.slice(at + marker.length).split(" ")) {
    const equals = word.indexOf("=");
    if (equals > 0 && !fields.has(word.slice(0, equals))) fields.set(word.slice(0, equals), word.slice(equals + 1));
  }
  return fields;
}

/** Reads logins out of a PostgreSQL log, chunk by chunk (a line cut between two chunks is read whole). */
export class ConnectionLog {
  readonly #received = new Map<string, { host: string; port: number }>();
  #partial = "";
  /** The time of the first line read: logins authorized soon after it may have been received before it. */
  #firstTime: number | undefined;

  /** The logins whose "connection authorized" line is in `chunk`. */
  read(chunk: string): DatabaseLogin[] {
    const lines = `${this.#partial}${chunk}`.split("\n");
    this.#partial = lines.pop() ?? "";
    return lines.flatMap((line) => this.#line(line));
  }

  #line(line: string): DatabaseLogin[] {
    const pid = PID.exec(line)?.[1];
    if (pid === undefined) return [];
    const time = lineTime(line);
    this.#firstTime ??= time;
    const received = fieldsAfter(line, RECEIVED);
    if (received !== undefined) {
      this.#remember(pid, { host: received.get("host") ?? "", port: Number(received.get("port") ?? 0) });
      return [];
    }
    const authorized = fieldsAfter(line, AUTHORIZED);
    if (authorized !== undefined) return this.#authorized(pid, time, authorized);
    return line.includes("FATAL:  ") ? this.#refused(pid, time, line) : [];
  }

  /** The refused login of a FATAL line, when it says the client could not authenticate. */
  #refused(pid: string, time: number | undefined, line: string): DatabaseLogin[] {
    const failed = AUTHENTICATION_FAILED.exec(line) ?? NO_HBA_ENTRY.exec(line);
    if (failed === null) return [];
    const from = this.#received.get(pid);
    this.#received.delete(pid);
    if (from === undefined && this.#receivedBeforeFollowing(time)) return [];
    return [{ time, user: failed[1] ?? "", database: failed[2] ?? "", applicationName: "", ...(from ?? { host: "", port: 0 }), refused: true }];
  }

  #authorized(pid: string, time: number | undefined, fields: Map<string, string>): DatabaseLogin[] {
    const from = this.#received.get(pid);
    this.#received.delete(pid);
    // Received before the log was followed (Holdfast's own first probes, as often as not): its address is unknown.
    if (from === undefined && this.#receivedBeforeFollowing(time)) return [];
    return [{ time, user: fields.get("user") ?? "", database: fields.get("database") ?? "", applicationName: fields.get("application_name") ?? "", ...(from ?? { host: "", port: 0 }) }];
  }

  #receivedBeforeFollowing(time: number | undefined): boolean {
    return time === undefined || time - (this.#firstTime ?? time) < BEFORE_FOLLOWING_MS;
  }

  #remember(pid: string, from: { host: string; port: number }): void {
    this.#received.set(pid, from);
    if (this.#received.size <= MAX_WAITING) return;
    const oldest = this.#received.keys().next().value;
    if (oldest !== undefined) this.#received.delete(oldest);
  }
}
