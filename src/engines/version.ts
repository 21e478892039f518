/** Version arithmetic shared by every engine: ordering and matching a requested `serviceVersion`. */
import type { EngineVersion } from "./types.ts";

/** The numeric parts of a dotted version (`15.18` → [15, 18]), or undefined when it is not one. */
export function versionParts(version: string): number[] | undefined {
  if (!/^[0-9]+(\.[0-9]+)*$/.test(version)) return undefined;
  return version.split(".").map(Number);
}

/** Numeric comparison of dotted versions; missing parts count as 0, so `15.18` equals `15.18.0`. */
export function compareVersions(a: string, b: string): number {
  const left = versionParts(a) ?? [];
  const right = versionParts(b) ?? [];
  for (let i = 0; i < Math.max(left.length, right.length); i++) {
    const difference = (left[i] ?? 0) - (right[i] ?? 0);
    if (difference !== 0) return difference;
  }
  return 0;
}

/** A copy of `versions`, newest first. */
export function newestFirst(versions: readonly EngineVersion[]): EngineVersion[] {
  return [...versions].sort((a, b) => compareVersions(b.version, a.version));
}

/** Does installed `version` satisfy `requested`? Every requested part must equal the installed one (absent = 0). */
function satisfies(installed: number[], requested: number[]): boolean {
  return requested.every((part, i) => (installed[i] ?? 0) === part);
}

/**
 * The installed version a `serviceVersion` asks for: undefined asks for the newest;
 * `15`, `15.18` and `15.18.0` all match 15.18; the newest of several matches wins.
 */
export function matchVersion(requested: string | undefined, installed: readonly EngineVersion[]): EngineVersion | undefined {
  const candidates = newestFirst(installed);
  if (requested === undefined) return candidates[0];
  const wanted = versionParts(requested.trim());
  if (wanted === undefined) return undefined;
  return candidates.find((candidate) => satisfies(versionParts(candidate.version) ?? [], wanted));
}
