/**
 * Logins read out of a PostgreSQL log (`log_connections = on`): "connection received" gives the client's address and
 * port, "connection authorized" the account and application_name, both under the backend's pid (`[%p]` of
 * Holdfast's `log_line_prefix`).
 */
import { lineTime } from "../log-time.ts";
import type { DatabaseLogin } from "../types.ts";

const RECEIVED = "LOG:  connection received: ";
const AUTHORIZED = "LOG:  connection authorized: ";
const PID = /\[(\d{1,10})\]/;
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
    return authorized === undefined ? [] : this.#authorized(pid, time, authorized);
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
