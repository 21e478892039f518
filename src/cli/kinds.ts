/** Resolving the KIND arguments users type (`clusters`, `cl`, `Cluster`, `cluster/pg`). */
import { allKinds, findKind } from "../api/index.ts";
import type { KindInfo } from "../api/index.ts";
import { UsageError } from "./args.ts";
import { formatTable } from "./output.ts";

/** The kind a user named, or a usage error pointing at `holdfast api-resources`. */
export function resolveKind(name: string, command: string): KindInfo {
  const info = findKind(name);
  if (!info) {
    throw new UsageError(`the server doesn't have a resource type "${name}"; run "holdfast api-resources" to list them`, command);
  }
  return info;
}

/** A kind and the names that follow it: `get clusters a b` or `get cluster/a cluster/b`. */
export interface Target {
  info: KindInfo;
  names: string[];
}

/** Parse `KIND [NAME...]` or `KIND/NAME...` positionals. */
export function parseTarget(positionals: readonly string[], command: string): Target {
  const first = positionals[0];
  if (first === undefined) {
    throw new UsageError(`you must specify the type of resource, e.g. "holdfast ${command} clusters"`, command);
  }
  if (!first.includes("/")) return { info: resolveKind(first, command), names: positionals.slice(1) };
  const pairs = positionals.map((word) => splitKindName(word, command));
  const info = pairs[0]?.info ?? resolveKind(first, command);
  if (pairs.some((pair) => pair.info.kind !== info.kind)) {
    throw new UsageError("all KIND/NAME arguments must name the same kind", command);
  }
  return { info, names: pairs.map((pair) => pair.name) };
}

/** Split `KIND/NAME`. */
export function splitKindName(word: string, command: string): { info: KindInfo; name: string } {
  const slash = word.indexOf("/");
  const name = word.slice(slash + 1);
  if (slash <= 0 || name === "" || name.includes("/")) {
    throw new UsageError(`expected KIND/NAME, such as cluster/pg, got "${word}"`, command);
  }
  return { info: resolveKind(word.slice(0, slash), command), name };
}

/** `cluster.apps.kubeblocks.io` or `namespace`: how kubectl names a kind in messages. */
export function kindLabel(info: KindInfo): string {
  return info.group === "" ? info.singular : `${info.singular}.${info.group}`;
}

/** The `holdfast api-resources` table. */
export function apiResourcesTable(): string {
  const rows = allKinds().map((info) => [
    info.plural,
    info.shortNames.join(","),
    info.group === "" ? info.version : `${info.group}/${info.version}`,
    String(info.namespaced),
    info.kind,
  ]);
  return formatTable(["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"], rows);
}
