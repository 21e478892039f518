/**
 * Logins of a database's superuser that Holdfast did not make, read by the node agent from the logs of the
 * PostgreSQL instances on its node (`log_connections = on`): "connection received" gives the client's address and
 * port, "connection authorized" the account and application_name, both under the backend's pid (`[%p]` of
 * Holdfast's `log_line_prefix`). Holdfast's own sessions are known by their client port, its tools by their
 * application_name (`OwnSessions`); every other login of the superuser is handed to `record` (the audit log).
 */
import { stat } from "node:fs/promises";
import type { Instance } from "../api/index.ts";
import type { HomePaths } from "../config/index.ts";
import type { OwnSessions } from "../engines/index.ts";
import type { Store } from "../store/index.ts";
import type { Logger } from "../util/index.ts";
import { followLog, lineTime } from "./instance-log.ts";
import { instanceLogFile } from "./layout.ts";

/** One login as the server logged it. */
export interface DatabaseLogin {
  /** When the server logged it (Unix ms), or undefined when the line has no time. */
  time: number | undefined;
  user: string;
  database: string;
  applicationName: string;
  /** The client's address and port (port 0 when the line gave none). */
  host: string;
  port: number;
}

const RECEIVED = "LOG:  connection received: ";
const AUTHORIZED = "LOG:  connection authorized: ";
const PID = /\[(\d{1,10})\]/;
/** Backends whose authorization is still awaited; past this the oldest are forgotten. */
const MAX_WAITING = 1000;

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

  /** The logins whose "connection authorized" line is in `chunk`. */
  read(chunk: string): DatabaseLogin[] {
    const lines = `${this.#partial}${chunk}`.split("\n");
    this.#partial = lines.pop() ?? "";
    return lines.flatMap((line) => this.#line(line));
  }

  #line(line: string): DatabaseLogin[] {
    const pid = PID.exec(line)?.[1];
    if (pid === undefined) return [];
    const received = fieldsAfter(line, RECEIVED);
    if (received !== undefined) {
      this.#remember(pid, { host: received.get("host") ?? "", port: Number(received.get("port") ?? 0) });
      return [];
    }
    const authorized = fieldsAfter(line, AUTHORIZED);
    if (authorized === undefined) return [];
    const from = this.#received.get(pid) ?? { host: "", port: 0 };
    this.#received.delete(pid);
    return [{ time: lineTime(line), user: authorized.get("user") ?? "", database: authorized.get("database") ?? "", applicationName: authorized.get("application_name") ?? "", ...from }];
  }

  #remember(pid: string, from: { host: string; port: number }): void {
    this.#received.set(pid, from);
    if (this.#received.size <= MAX_WAITING) return;
    const oldest = this.#received.keys().next().value;
    if (oldest !== undefined) this.#received.delete(oldest);
  }
}

/** The superuser accounts whose logins are watched, by engine. */
const SUPERUSERS: Readonly<Record<string, readonly string[]>> = { postgresql: ["postgres"] };

/** True when `login` is one of the engine's superusers, and not made by this process. */
export function isForeignSuperuserLogin(engine: string, login: DatabaseLogin, own: OwnSessions, nowMs: number): boolean {
  if (!(SUPERUSERS[engine] ?? []).includes(login.user)) return false;
  if (own.ownsApplicationName(login.applicationName)) return false;
  return !(isLoopback(login.host) && own.holds(login.port, nowMs));
}

function isLoopback(host: string): boolean {
  return host.startsWith("127.") || host === "::1" || host === "localhost";
}

/** What the watch needs. */
export interface DatabaseLoginWatchOptions {
  store: Store;
  paths: HomePaths;
  nodeName: string;
  logger: Logger;
  own: OwnSessions;
  /** Records one foreign superuser login (the audit log); a failure is logged and the login is not retried. */
  record(instance: Instance, login: DatabaseLogin): Promise<void>;
  /** How often the instances bound here are listed again (default 2 s) and their logs read (default 500 ms). */
  listMs?: number;
  readMs?: number;
}

interface Followed {
  stop(): void;
}

/** Follows the log of every PostgreSQL instance bound to this node, from the end it had when the watch found it. */
export class DatabaseLoginWatch {
  readonly #options: DatabaseLoginWatchOptions;
  readonly #followed = new Map<string, Followed>();
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(options: DatabaseLoginWatchOptions) {
    this.#options = options;
  }

  start(): void {
    const tick = (): void => {
      void this.#refresh()
        .catch((error: unknown) => this.#options.logger.warn({ err: error }, "cannot list the instances whose logins are watched"))
        .finally(() => {
          if (!this.#stopped) this.#timer = setTimeout(tick, this.#options.listMs ?? 2000).unref();
        });
    };
    tick();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    for (const followed of this.#followed.values()) followed.stop();
    this.#followed.clear();
  }

  async #refresh(): Promise<void> {
    const { items } = await this.#options.store.list<Instance>("Instance");
    const here = items.filter((instance) => instance.spec.nodeName === this.#options.nodeName && SUPERUSERS[instance.spec.engine] !== undefined);
    const wanted = new Map(here.map((instance) => [`${instance.metadata.namespace ?? ""}/${instance.metadata.name}/${instance.metadata.uid ?? ""}`, instance]));
    for (const [key, followed] of this.#followed) {
      if (wanted.has(key)) continue;
      followed.stop();
      this.#followed.delete(key);
    }
    for (const [key, instance] of wanted) {
      if (this.#followed.has(key) || this.#stopped) continue;
      this.#followed.set(key, await this.#follow(instance));
    }
  }

  async #follow(instance: Instance): Promise<Followed> {
    const file = instanceLogFile(this.#options.paths, instance);
    const size = await stat(file).then((found) => found.size, () => 0);
    const log = new ConnectionLog();
    return followLog(file, size, (chunk) => this.#read(instance, log.read(chunk)), this.#options.readMs ?? 500);
  }

  #read(instance: Instance, logins: DatabaseLogin[]): void {
    const now = Date.now();
    for (const login of logins) {
      if (!isForeignSuperuserLogin(instance.spec.engine, login, this.#options.own, now)) continue;
      this.#options.record(instance, login).catch((error: unknown) => this.#options.logger.error({ err: error, instance: instance.metadata.name }, "cannot record a database superuser login in the audit log"));
    }
  }
}
