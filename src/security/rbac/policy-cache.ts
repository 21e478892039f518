/**
 * Keeps a PolicySnapshot current without reading the store on every request: a store watch on the four RBAC
 * kinds bumps a version on every change, and the next request reloads. The embedded store delivers watch
 * events before a writer's `await` resumes, so a deleted binding stops granting at once.
 */
import type { Store, Watch } from "../../store/index.ts";
import { loadPolicySnapshot, type PolicySnapshot } from "./policy-snapshot.ts";

const RBAC_KINDS = ["ClusterRole", "Role", "ClusterRoleBinding", "RoleBinding"] as const;

/** How the cache behaves. */
export interface PolicyCacheOptions {
  /** Reload at least this often even without watch events, in case a watch was lost (default 30 s). */
  maxAgeMs?: number;
  /** The clock, for tests. */
  now?: () => number;
}

interface Loaded {
  version: number;
  loadedAt: number;
  snapshot: PolicySnapshot;
}

/** The current RBAC policy of a store. */
export class PolicyCache {
  private readonly store: Store;
  private readonly maxAgeMs: number;
  private readonly now: () => number;
  private watches: Watch[] | undefined;
  private version = 0;
  private loaded: Loaded | undefined;
  private loading: { version: number; promise: Promise<PolicySnapshot> } | undefined;

  constructor(store: Store, options: PolicyCacheOptions = {}) {
    this.store = store;
    this.maxAgeMs = options.maxAgeMs ?? 30_000;
    this.now = options.now ?? Date.now;
  }

  /** The policy as of now: cached when nothing changed since it was read. */
  current(): Promise<PolicySnapshot> {
    this.startWatching();
    const loaded = this.loaded;
    if (loaded !== undefined && loaded.version === this.version && this.now() - loaded.loadedAt < this.maxAgeMs) {
      return Promise.resolve(loaded.snapshot);
    }
    // Concurrent requests after one change share one reload.
    if (this.loading?.version === this.version) return this.loading.promise;
    return this.reload();
  }

  /** Forget the cached policy; the next request reads the store. */
  invalidate(): void {
    this.version += 1;
  }

  /** Stop watching the store. */
  close(): void {
    for (const watch of this.watches ?? []) watch.stop();
    this.watches = undefined;
    this.loaded = undefined;
  }

  private reload(): Promise<PolicySnapshot> {
    const version = this.version;
    const loadedAt = this.now();
    const promise = loadPolicySnapshot(this.store).then(
      (snapshot) => {
        // A change seen while loading leaves the version bumped, so this snapshot is used once and then reloaded.
        if (this.version === version) this.loaded = { version, loadedAt, snapshot };
        if (this.loading?.promise === promise) this.loading = undefined;
        return snapshot;
      },
      (error: unknown) => {
        if (this.loading?.promise === promise) this.loading = undefined;
        throw error;
      },
    );
    this.loading = { version, promise };
    return promise;
  }

  // Watches start before the first load, so no change can fall between the read and the watch.
  private startWatching(): void {
    if (this.watches !== undefined) return;
    this.watches = RBAC_KINDS.map((kind) => this.store.watch({ kind }, () => this.invalidate()));
  }
}
