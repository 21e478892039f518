/**
 * What this host offers, for the messages that refuse an engine or a version: every engine with its installed
 * versions, and a pointer when a manifest names a server of an engine's family that is not installed (MySQL).
 */
import type { Engine, EngineVersion } from "../../engines/index.ts";

/** An engine as the offer shows it: its name, and the names of the other servers of its family it is not. */
export type OfferedEngine = Pick<Engine, "name" | "relatedNames">;

/** `installed engines: postgresql 16.4, 15.18; redis 7.0.15; mariadb (none installed)`. */
export function installedOffer(engines: readonly OfferedEngine[], installed: ReadonlyMap<string, readonly EngineVersion[]>): string {
  const parts = engines.map((engine) => {
    const versions = installed.get(engine.name) ?? [];
    return versions.length === 0 ? `${engine.name} (none installed)` : `${engine.name} ${versions.map((v) => v.version).join(", ")}`;
  });
  return `installed engines: ${parts.join("; ")}`;
}

/** Does `requested` (a clusterDef, or a componentDef such as `mysql-8.0`) name `name`? */
function names(requested: string, name: string): boolean {
  return requested === name || requested.startsWith(`${name}-`);
}

/**
 * Why `requested` is not run, when it names a related server of an installed engine's family (`mysql`: MariaDB is a
 * different server and is never run under MySQL's name), else a plain "is not an engine of this host".
 */
export function unknownEngineReason(requested: string, engines: readonly OfferedEngine[]): string {
  for (const engine of engines) {
    const related = engine.relatedNames?.find((name) => names(requested, name));
    if (related !== undefined) {
      return `${related} server binaries are not installed on this host and Holdfast does not run ${engine.name} under another server's name; ${engine.name} is the ${related}-family engine here (set clusterDef or componentDef to ${engine.name})`;
    }
  }
  return "no engine of this name is known to this host";
}
