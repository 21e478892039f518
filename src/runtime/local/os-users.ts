/** The OS users instances run as, one per cluster: created on first use, removed with their cluster. */
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { instanceOsUser, SHARED_OS_USER, type Instance } from "../../api/index.ts";
import type { HostAccess } from "../../engines/index.ts";
import { createHostAccess } from "./host-access.ts";
import { ensureServiceUser, isRoot, lookupUser, removeServiceUser, type ServiceUser } from "./service-user.ts";
import { ensureTraversable, revokeTraversal } from "./traversable.ts";

/** Where OsUsers' users must be able to reach (the instances directory), and what to tell of changes. */
export interface OsUsersOptions {
  reach: readonly string[];
  /** Directories holding one `<user name>` directory per user (backup scratch), removed with the user. */
  perUserRoots?: readonly string[];
  onGranted?: (user: string, directories: readonly string[]) => void;
}

/** Whom an instance's processes and engine commands run as: what controllers are given. */
export interface InstanceUsers {
  /** The OS user of `instance` (spec.osUser), created on first use. */
  userOf(instance: Instance): Promise<ServiceUser>;
  /** Commands and files as that user. */
  hostOf(instance: Instance): Promise<HostAccess>;
}

/**
 * Every runner of engine commands and every process start takes its user from here, by the name an Instance
 * records (spec.osUser): no other place decides whom a database runs as.
 */
export class OsUsers implements InstanceUsers {
  readonly #options: OsUsersOptions;
  readonly #known = new Map<string, Promise<ServiceUser>>();

  constructor(options: OsUsersOptions) {
    this.#options = options;
  }

  /** The user `name`, created (safely when callers race) and given its way to the instances on first use. */
  user(name: string): Promise<ServiceUser> {
    let known = this.#known.get(name);
    if (known === undefined) {
      known = this.#prepare(name);
      // A failure is not remembered: the next call tries again.
      known.catch(() => this.#known.delete(name));
      this.#known.set(name, known);
    }
    return known;
  }

  userOf(instance: Instance): Promise<ServiceUser> {
    return this.user(instanceOsUser(instance));
  }

  async hostOf(instance: Instance): Promise<HostAccess> {
    return createHostAccess(await this.userOf(instance));
  }

  /** Remove the user `name` (never the shared user of older homes); fails while it still has processes. */
  async remove(name: string): Promise<void> {
    if (!isRoot() || name === SHARED_OS_USER) return;
    this.#known.delete(name);
    const user = await lookupUser(name);
    if (user === undefined) return;
    for (const root of this.#options.perUserRoots ?? []) await rm(join(root, name), { recursive: true, force: true });
    for (const path of this.#options.reach) await revokeTraversal(path, user);
    await removeServiceUser(name);
  }

  async #prepare(name: string): Promise<ServiceUser> {
    const user = await ensureServiceUser(name);
    for (const path of this.#options.reach) {
      const changed = await ensureTraversable(path, user);
      if (changed.length > 0) this.#options.onGranted?.(user.name, changed);
    }
    return user;
  }
}
