/**
 * Logins of a database's superuser that Holdfast did not make, seen by the node agent on the instances of its node,
 * each engine its own way (Engine.logins): PostgreSQL's log (`log_connections = on`), followed as it grows; Redis'
 * list of connected clients (`CLIENT LIST`), polled, each connection counted once. Holdfast's own sessions are known
 * by their client port, its tools by their application_name (`OwnSessions`); every other login of a superuser is
 * handed to `record` (the audit log).
 */
import { stat } from "node:fs/promises";
import type { Instance } from "../api/index.ts";
import type { HomePaths } from "../config/index.ts";
import { instanceTrust } from "./instance-tls.ts";
import type { DatabaseLogin, Engine, EngineLogins, OwnSessions } from "../engines/index.ts";
import type { Store } from "../store/index.ts";
import type { Logger } from "../util/index.ts";
import { readAccount } from "./accounts.ts";
import { followLog } from "./instance-log.ts";
import { instanceLogFile } from "./layout.ts";

export type { DatabaseLogin };

/** True when `login` is one of `superusers`, and not made by this process. */
export function isForeignSuperuserLogin(superusers: readonly string[], login: DatabaseLogin, own: OwnSessions, nowMs: number): boolean {
  if (!superusers.includes(login.user)) return false;
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

function clientKey(login: DatabaseLogin): string {
  return `${login.host}:${login.port}`;
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
  /** Records one foreign superuser login (the audit log); a failure is logged and the login is not retried. */
  record(instance: Instance, login: DatabaseLogin): Promise<void>;
  /** How often the instances bound here are listed again (default 2 s), and their logs read or servers asked (default 500 ms). */
  listMs?: number;
  readMs?: number;
}

interface Followed {
  stop(): void;
}

/** Watches every instance bound to this node whose engine tells its logins, from when the watch found it. */
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
    if (logins?.logParser !== undefined) return this.#followLog(instance, logins.superusers, logins.logParser());
    const connected = logins?.connectedClients;
    return connected === undefined ? { stop: () => undefined } : this.#poll(instance, logins?.superusers ?? [], connected);
  }

  async #followLog(instance: Instance, superusers: readonly string[], parser: { read(chunk: string): DatabaseLogin[] }): Promise<Followed> {
    const file = instanceLogFile(this.#options.paths, instance);
    const size = await stat(file).then((found) => found.size, () => 0);
    return followLog(file, size, (chunk) => this.#read(instance, superusers, parser.read(chunk)), this.#options.readMs ?? 500);
  }

  /** Ask the running server for its clients every readMs; the first answer is what was there before the watch. */
  #poll(instance: Instance, superusers: readonly string[], connected: NonNullable<EngineLogins["connectedClients"]>): Followed {
    const clients = new ConnectedClients();
    const trust = instanceTrust(this.#options.paths, instance);
    let first = true;
    let stopped = false;
    let timer: NodeJS.Timeout | undefined;
    const poll = async (): Promise<void> => {
      const admin = await readAccount(this.#options.store, instance, superusers[0] ?? "");
      const added = clients.added(await connected(instance.spec.port, admin, trust));
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

  #read(instance: Instance, superusers: readonly string[], logins: DatabaseLogin[]): void {
    const now = Date.now();
    for (const login of logins) {
      if (!isForeignSuperuserLogin(superusers, login, this.#options.own, now)) continue;
      this.#options.record(instance, login).catch((error: unknown) => this.#options.logger.error({ err: error, instance: instance.metadata.name }, "cannot record a database superuser login in the audit log"));
    }
  }
}
