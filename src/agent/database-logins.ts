/**
 * Logins of a database's superuser that Holdfast did not make, seen by the node agent on the instances of its node,
 * each engine its own way (Engine.logins): PostgreSQL's log (`log_connections = on`), followed as it grows; Redis'
 * list of connected clients (`CLIENT LIST`), polled, each connection counted once; MariaDB's audit log (CONNECT events).
 * Holdfast's own sessions are known by their client port, its tools by their application_name, MariaDB's sessions by
 * the connection id its clients tell (`OwnSessions`); every other login of a superuser is handed to `record` (the
 * audit log). So is every login a server refused (a wrong password), whoever made it: up to MAX_REFUSED_PER_READ of
 * each read one by one, the rest of that read as one count, so a flood of guesses cannot flood the audit log.
 */
import { stat } from "node:fs/promises";
import type { Instance } from "../api/index.ts";
import type { HomePaths } from "../config/index.ts";
import { instanceTrust } from "./instance-tls.ts";
import type { DatabaseLogin, Engine, EngineLogins, OwnSessions, RefusalTally } from "../engines/index.ts";
import type { Store, Watch } from "../store/index.ts";
import type { Logger } from "../util/index.ts";
import { readAccount } from "./accounts.ts";
import { followLog } from "./instance-log.ts";
import { instanceLayout, instanceLogFile } from "./layout.ts";

export type { DatabaseLogin };

/** Refused logins of one read of a log recorded one by one; the others of that read are recorded as a count. */
export const MAX_REFUSED_PER_READ = 20;

/** The refused logins of `logins` to record one by one, and how many more there were. */
export function refusedToRecord(logins: readonly DatabaseLogin[]): { each: DatabaseLogin[]; omitted: number } {
  const refused = logins.filter((login) => login.refused === true);
  return { each: refused.slice(0, MAX_REFUSED_PER_READ), omitted: Math.max(0, refused.length - MAX_REFUSED_PER_READ) };
}

/** True when `login` is one of `superusers`, and not made by this process. */
export function isForeignSuperuserLogin(superusers: readonly string[], login: DatabaseLogin, own: OwnSessions, nowMs: number): boolean {
  if (login.refused === true || !superusers.includes(login.user)) return false;
  if (own.ownsApplicationName(login.applicationName)) return false;
  return !(isLoopback(login.host) && own.holds(login.port, nowMs));
}

function isLoopback(host: string): boolean {
  return host.startsWith("127.") || host === "::1" || host === "localhost";
}

/**
 * The connections of a polled server not seen before: each open connection (by its address and port) is one login,
 * reported once; one that closed is forgotten, so a later connection from the same port is a new login.
 */
export class ConnectedClients {
  #seen = new Set<string>();

  /** The logins in `listed` that were not in the last listing. */
  added(listed: readonly DatabaseLogin[]): DatabaseLogin[] {
    const now = new Set(listed.map(clientKey));
    const added = listed.filter((login) => !this.#seen.has(clientKey(login)));
    this.#seen = now;
    return added;
  }
}

/** Refused logins reported at once from one tally: past this, the rest of a burst is only counted. */
const MAX_REFUSALS_PER_POLL = 10_000;

/**
 * The logins a polled server refused since the last answer, from its counts per account: each account's count that
 * grew is that many refused logins (with the address of its latest); the first answer is what was there before the
 * watch. A count that fell (the server restarted, or dropped old entries) is taken as the new base.
 */
export class RefusalCounts {
  #counts: Map<string, number> | undefined;

  /** The refused logins in `tallies` that were not in the last answer. */
  added(tallies: readonly RefusalTally[], nowMs: number): DatabaseLogin[] {
    const previous = this.#counts;
    this.#counts = new Map(tallies.map((tally) => [tally.user, tally.count]));
    if (previous === undefined) return [];
    return tallies.flatMap((tally) => {
      const grown = Math.min(MAX_REFUSALS_PER_POLL, tally.count - (previous.get(tally.user) ?? 0));
      const login: DatabaseLogin = { time: nowMs, user: tally.user, database: "", applicationName: "", host: tally.host, port: tally.port, refused: true };
      return grown > 0 ? Array.from({ length: grown }, () => login) : [];
    });
  }
}

function clientKey(login: DatabaseLogin): string {
  return `${login.host}:${login.port}`;
}

/**
 * How long a login known by its connection id (MariaDB) waits, from when it was read, for a client of this process to
 * tell that id: the client prints it right after the server accepted it, a round trip after the line was written.
 */
export const CONNECTION_ID_GRACE_MS = 4000;

/** Is a login of a server (by its connection id, read at `readMs`) one of this process'? */
export type OwnConnection = (login: DatabaseLogin, readMs: number, final: boolean) => boolean;

/**
 * Superuser logins known by connection id, waiting for their id to be told: one told is dropped, one whose grace ended
 * is foreign (`final` asks last, once, whether a tool announced it). A login is judged foreign only at the second
 * settling after its grace ended: a client's output that came while the event loop was busy is read in between.
 */
export class AwaitedLogins {
  #waiting: { login: DatabaseLogin; readMs: number; expired: boolean }[] = [];

  add(login: DatabaseLogin, readMs: number): void {
    this.#waiting.push({ login, readMs, expired: false });
  }

  /** The logins that are not this process' and whose grace ended by `nowMs` (at an earlier settling too); the others wait on. */
  settle(nowMs: number, own: OwnConnection): DatabaseLogin[] {
    const foreign: DatabaseLogin[] = [];
    this.#waiting = this.#waiting.filter((waiting) => {
      const { login, readMs } = waiting;
      if (own(login, readMs, false)) return false;
      if (!waiting.expired) {
        waiting.expired = nowMs - readMs >= CONNECTION_ID_GRACE_MS;
        return true;
      }
      if (!own(login, readMs, true)) foreign.push(login);
      return false;
    });
    return foreign;
  }
}

/** What the watch needs. */
export interface DatabaseLoginWatchOptions {
  store: Store;
  paths: HomePaths;
  nodeName: string;
  logger: Logger;
  own: OwnSessions;
  /** The engine of an instance (its `spec.engine`), or undefined. */
  engine(name: string): Engine | undefined;
  /**
   * Records one foreign superuser login or one refused login (the audit log); `omitted`: that many more refused logins
   * of the same read, not recorded one by one. A failure is logged and the login is not retried.
   */
  record(instance: Instance, login: DatabaseLogin, omitted?: number): Promise<void>;
  /**
   * How often the watch looks for instances added or removed here (default 2 s): it lists them again only when a
   * change of an Instance was seen since the last listing. Their logs are read or servers asked every `readMs`
   * (default 500 ms).
   */
  listMs?: number;
  readMs?: number;
}

interface Followed {
  stop(): void;
}

/**
 * Watches every instance bound to this node whose engine tells its logins, from when the watch found it. Listing every
 * Instance is O(instances) of synchronous work on the event loop (2.7 ms for 200 instances here); a store watch on the
 * kind marks when a listing can find something new, so an unchanged control plane is not listed every 2 s.
 */
export class DatabaseLoginWatch {
  readonly #options: DatabaseLoginWatchOptions;
  readonly #followed = new Map<string, Followed>();
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  /** Instances changed since the last listing (or it is not known: no watch runs). */
  #changed = true;
  #instances: Watch | undefined;

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
    this.#instances?.stop();
    for (const followed of this.#followed.values()) followed.stop();
    this.#followed.clear();
  }

  /** Watch Instances (live changes) until the watch ends; every change, and the end, call for a listing. */
  #watchInstances(): void {
    const changed = (): void => {
      this.#changed = true;
    };
    try {
      this.#instances = this.#options.store.watch({ kind: "Instance" }, changed, () => {
        this.#instances = undefined;
        changed();
      });
    } catch {
      changed(); // watched again at the next refresh
    }
  }

  async #refresh(): Promise<void> {
    if (this.#stopped) return;
    if (this.#instances === undefined) this.#watchInstances();
    if (!this.#changed) return;
    // Cleared before the listing: a change that comes while it runs calls for the next one; a failure, for a retry.
    this.#changed = false;
    await this.#followInstances().catch((error: unknown) => {
      this.#changed = true;
      throw error;
    });
  }

  async #followInstances(): Promise<void> {
    const { items } = await this.#options.store.list<Instance>("Instance");
    const here = items.filter((instance) => instance.spec.nodeName === this.#options.nodeName && this.#logins(instance) !== undefined);
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

  #logins(instance: Instance): EngineLogins | undefined {
    return this.#options.engine(instance.spec.engine)?.logins;
  }

  async #follow(instance: Instance): Promise<Followed> {
    const logins = this.#logins(instance);
    if (logins?.logParser !== undefined) return this.#followLog(instance, logins, logins.logParser());
    const connected = logins?.connectedClients;
    return connected === undefined ? { stop: () => undefined } : this.#poll(instance, logins?.superusers ?? [], connected);
  }

  async #followLog(instance: Instance, logins: EngineLogins, parser: { read(chunk: string): DatabaseLogin[] }): Promise<Followed> {
    const { paths, own } = this.#options;
    const { path: file, rotated } = logins.logFile?.(instanceLayout(paths, instance)) ?? { path: instanceLogFile(paths, instance) };
    const size = await stat(file).then((found) => found.size, () => 0);
    const readMs = this.#options.readMs ?? 500;
    const awaited = new AwaitedLogins();
    const port = instance.spec.port;
    const ownConnection: OwnConnection = (login, at, final) =>
      login.connectionId !== undefined && (own.holdsConnection(port, login.connectionId, at) || (final && own.takeExpected(port, at)));
    const follower = followLog(file, size, (chunk) => this.#read(instance, logins.superusers, parser.read(chunk), awaited), readMs, rotated);
    const timer = setInterval(() => this.#record(instance, awaited.settle(Date.now(), ownConnection)), readMs).unref();
    return {
      stop() {
        follower.stop();
        clearInterval(timer);
      },
    };
  }

  /** Ask the running server for its clients every readMs; the first answer is what was there before the watch. */
  #poll(instance: Instance, superusers: readonly string[], connected: NonNullable<EngineLogins["connectedClients"]>): Followed {
    const clients = new ConnectedClients();
    const refusals = new RefusalCounts();
    const trust = instanceTrust(this.#options.paths, instance);
    let first = true;
    let stopped = false;
    let timer: NodeJS.Timeout | undefined;
    const poll = async (): Promise<void> => {
      const admin = await readAccount(this.#options.store, instance, superusers[0] ?? "");
      const answer = await connected(instance.spec.port, admin, trust);
      const added = [...clients.added(answer.clients), ...refusals.added(answer.refusals, Date.now())];
      if (!first && !stopped) this.#read(instance, superusers, added);
      first = false;
    };
    const tick = (): void => {
      void poll()
        .catch(() => undefined) // not running (yet), or stopping: asked again at the next tick
        .finally(() => {
          if (!stopped) timer = setTimeout(tick, this.#options.readMs ?? 500).unref();
        });
    };
    tick();
    return {
      stop() {
        stopped = true;
        clearTimeout(timer);
      },
    };
  }

  /** Record the foreign superuser logins of `logins`; one known by connection id waits in `awaited` for its id first. */
  #read(instance: Instance, superusers: readonly string[], logins: DatabaseLogin[], awaited?: AwaitedLogins): void {
    const now = Date.now();
    const refused = refusedToRecord(logins);
    this.#record(instance, refused.each, refused.omitted);
    const foreign = logins.filter((login) => isForeignSuperuserLogin(superusers, login, this.#options.own, now));
    for (const login of foreign) {
      if (login.connectionId !== undefined && awaited !== undefined) awaited.add(login, now);
    }
    this.#record(instance, foreign.filter((login) => login.connectionId === undefined || awaited === undefined));
  }

  #record(instance: Instance, logins: readonly DatabaseLogin[], omitted = 0): void {
    logins.forEach((login, index) => {
      const more = index === logins.length - 1 ? omitted : 0;
      this.#options.record(instance, login, more).catch((error: unknown) => this.#options.logger.error({ err: error, instance: instance.metadata.name }, "cannot record a database login in the audit log"));
    });
  }
}
