/** The engines this Holdfast knows, and the versions installed for each. */
import { InvalidError, NotFoundError } from "../errors/index.ts";
import type { Engine, EngineVersion } from "./types.ts";

/** How long detected versions are trusted before the host is asked again. */
const VERSIONS_TTL_MS = 30_000;

interface CachedVersions {
  at: number;
  versions: Promise<EngineVersion[]>;
}

/** Options for tests: a clock and a cache lifetime. */
export interface EngineCatalogOptions {
  now?: () => number;
  ttlMs?: number;
}

/** Looks engines up by name and caches their installed versions for 30 s. */
export class EngineCatalog {
  readonly #engines: readonly Engine[];
  readonly #cache = new Map<string, CachedVersions>();
  readonly #now: () => number;
  readonly #ttlMs: number;

  constructor(engines: readonly Engine[], options: EngineCatalogOptions = {}) {
    const names = engines.map((engine) => engine.name);
    const duplicate = names.find((name, i) => names.indexOf(name) !== i);
    if (duplicate !== undefined) {
      throw new InvalidError(`engine ${duplicate} is registered twice: register each engine once`, {
        causes: [{ field: "engines", message: `duplicate engine name ${duplicate}` }],
      });
    }
    this.#engines = [...engines];
    this.#now = options.now ?? Date.now;
    this.#ttlMs = options.ttlMs ?? VERSIONS_TTL_MS;
  }

  /** Every engine, in registration order. */
  list(): readonly Engine[] {
    return this.#engines;
  }

  /** The engine called `name`, or undefined. */
  find(name: string): Engine | undefined {
    return this.#engines.find((engine) => engine.name === name);
  }

  /** Installed versions of engine `name`, newest first; detected at most once per 30 s. */
  versions(name: string): Promise<EngineVersion[]> {
    const engine = this.find(name);
    if (engine === undefined) {
      const known = this.#engines.map((e) => e.name).join(", ");
      return Promise.reject(new NotFoundError(`engine ${name} is not known: use one of ${known}`, { subject: { kind: "Engine", name } }));
    }
    const cached = this.#cache.get(name);
    if (cached !== undefined && this.#now() - cached.at < this.#ttlMs) return cached.versions;
    const versions = engine.detectVersions();
    this.#cache.set(name, { at: this.#now(), versions });
    // A failed detection is not cached: the next call asks the host again.
    versions.catch(() => {
      if (this.#cache.get(name)?.versions === versions) this.#cache.delete(name);
    });
    return versions;
  }

  /** Forget cached versions, e.g. after engines were installed. */
  refresh(): void {
    this.#cache.clear();
  }
}
