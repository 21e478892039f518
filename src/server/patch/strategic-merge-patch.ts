/**
 * Strategic merge patch, as the Kubernetes API server applies it: objects merge key by key and `null` removes a
 * key (as in a JSON merge patch), but lists that have a merge key (`componentSpecs` by `name`) merge element by
 * element, sets of scalars (`finalizers`) are unions, and the directives `$patch: replace|delete|merge`,
 * `$retainKeys`, `$setElementOrder/<list>` and `$deleteFromPrimitiveList/<list>` are honoured.
 */
import type { ListMerge } from "../../api/index.ts";
import { InputError } from "../../errors/index.ts";

/** How the list at a dotted path merges (undefined: replaced whole). */
export type ListMergeLookup = (path: string) => ListMerge | undefined;

type JsonObject = Record<string, unknown>;

const SET_ORDER = "$setElementOrder/";
const DELETE_FROM = "$deleteFromPrimitiveList/";

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function join(path: string, key: string): string {
  return path === "" ? key : `${path}.${key}`;
}

function defineField(target: JsonObject, key: string, value: unknown): void {
  // defineProperty keeps a `__proto__` key as data instead of changing the prototype.
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Apply a strategic merge patch to `original` (not modified); returns the patched copy. */
export function applyStrategicMergePatch(original: unknown, patch: unknown, lists: ListMergeLookup): unknown {
  if (!isObject(patch)) throw new InputError("a strategic merge patch must be a JSON object");
  return mergeObject(isObject(original) ? original : {}, patch, "", lists);
}

function checkDirective(directive: unknown, path: string): void {
  if (directive === undefined || directive === "merge" || directive === "delete" || directive === "replace") return;
  throw new InputError(`unknown $patch directive ${JSON.stringify(directive)} at ${path || "the object"}; use replace, merge or delete`);
}

function mergeObject(original: JsonObject, patch: JsonObject, path: string, lists: ListMergeLookup): JsonObject {
  checkDirective(patch["$patch"], path);
  if (patch["$patch"] === "replace") return withoutDirectives(patch, path, lists);
  const result: JsonObject = {};
  const retained = retainKeysOf(patch, path);
  for (const [key, value] of Object.entries(original)) if (retained === undefined || retained.has(key)) defineField(result, key, value);
  for (const [key, value] of Object.entries(patch)) if (!key.startsWith("$")) mergeField(result, key, value, join(path, key), lists);
  applyListDirectives(result, patch, path, lists);
  return result;
}

/** `$deleteFromPrimitiveList/<list>` first, then `$setElementOrder/<list>`, once the fields are merged. */
function applyListDirectives(result: JsonObject, patch: JsonObject, path: string, lists: ListMergeLookup): void {
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith(DELETE_FROM)) deleteFromPrimitiveList(result, key.slice(DELETE_FROM.length), value, path);
  }
  for (const [key, value] of Object.entries(patch)) {
    if (!key.startsWith(SET_ORDER)) continue;
    const field = key.slice(SET_ORDER.length);
    setElementOrder(result, field, value, join(path, field), lists);
  }
}

function mergeField(result: JsonObject, key: string, value: unknown, path: string, lists: ListMergeLookup): void {
  if (value === null) {
    // eslint-disable-next-line @typescript-eslint/no-dynamic-delete -- a field of a plain JSON object
    delete result[key];
  } else if (isObject(value) && value["$patch"] === "delete") {
    // eslint-disable-next-line @typescript-eslint/no-dynamic-delete -- a field of a plain JSON object
    delete result[key];
  } else if (isObject(value)) {
    const current = result[key];
    defineField(result, key, mergeObject(isObject(current) ? current : {}, value, path, lists));
  } else if (Array.isArray(value)) {
    defineField(result, key, mergeList(result[key], value, path, lists));
  } else {
    defineField(result, key, value);
  }
}

function retainKeysOf(patch: JsonObject, path: string): Set<string> | undefined {
  const retain = patch["$retainKeys"];
  if (retain === undefined) return undefined;
  if (!Array.isArray(retain) || !retain.every((k) => typeof k === "string")) throw new InputError(`$retainKeys at ${path || "the object"} must be a list of field names`);
  return new Set(retain);
}

/** A value from a patch with its directives removed, for where nothing merges with it. */
function withoutDirectives(value: JsonObject, path: string, lists: ListMergeLookup): JsonObject {
  const stripped = Object.fromEntries(Object.entries(value).filter(([key]) => key !== "$patch"));
  return mergeObject({}, stripped, path, lists);
}

function fresh(value: unknown, path: string, lists: ListMergeLookup): unknown {
  if (isObject(value)) return withoutDirectives(value, path, lists);
  if (Array.isArray(value)) return mergeList(undefined, value, path, lists);
  return value;
}

function mergeList(original: unknown, patch: unknown[], path: string, lists: ListMergeLookup): unknown[] {
  const merge = lists(path);
  const replaceAll = patch.some((item) => isObject(item) && item["$patch"] === "replace" && Object.keys(item).length === 1);
  const items = patch.filter((item) => !(isObject(item) && item["$patch"] === "replace" && Object.keys(item).length === 1));
  const current = Array.isArray(original) && !replaceAll ? original : [];
  if (merge === undefined || replaceAll) return items.map((item) => fresh(item, path, lists));
  const existing: unknown[] = current;
  if (merge.type === "set") return [...existing, ...items.filter((item) => !existing.includes(item))];
  return mergeKeyedList(current, items, merge.key, path, lists);
}

function mergeKeyedList(current: readonly unknown[], patch: readonly unknown[], key: string, path: string, lists: ListMergeLookup): unknown[] {
  const result = [...current];
  for (const item of patch) {
    if (!isObject(item) || item[key] === undefined) throw new InputError(`every element of ${path} in a strategic merge patch needs its merge key ${JSON.stringify(key)}`);
    const index = result.findIndex((existing) => isObject(existing) && existing[key] === item[key]);
    if (item["$patch"] === "delete") {
      if (index >= 0) result.splice(index, 1);
    } else if (index >= 0) {
      result[index] = mergeObject(result[index] as JsonObject, item, path, lists);
    } else {
      result.push(withoutDirectives(item, path, lists));
    }
  }
  return result;
}

function deleteFromPrimitiveList(result: JsonObject, field: string, values: unknown, path: string): void {
  if (!Array.isArray(values)) throw new InputError(`${DELETE_FROM}${field} at ${path || "the object"} must be a list`);
  const current = result[field];
  if (Array.isArray(current)) defineField(result, field, current.filter((item) => !values.includes(item)));
}

/** Order a merged list as the patch's `$setElementOrder` says; elements it does not name keep their place after those it does. */
function setElementOrder(result: JsonObject, field: string, order: unknown, path: string, lists: ListMergeLookup): void {
  const current = result[field];
  if (!Array.isArray(order) || !Array.isArray(current)) return;
  const merge = lists(path);
  const identity = (item: unknown): unknown => (merge?.type === "map" && isObject(item) ? item[merge.key] : item);
  const wanted = order.map(identity);
  const rank = (item: unknown): number => {
    const at = wanted.indexOf(identity(item));
    return at === -1 ? wanted.length : at;
  };
  const items: unknown[] = current;
  defineField(result, field, [...items].sort((a, b) => rank(a) - rank(b)));
}
