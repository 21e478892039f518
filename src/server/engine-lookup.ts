/** What the API server needs from the engine catalog: a narrow view, so admission does not depend on how engines are registered. */
import type { Engine, EngineVersion } from "../engines/index.ts";

/** Finds built-in engines and the versions installed on this host. */
export interface EngineLookup {
  /** The engine of this name, or undefined. */
  find(name: string): Engine | undefined;
  /** Every built-in engine. */
  list(): readonly Pick<Engine, "name" | "relatedNames">[];
  /** Versions of the named engine installed on this host, newest first. */
  versions(name: string): Promise<EngineVersion[]>;
}
