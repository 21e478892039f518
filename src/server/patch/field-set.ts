/**
 * Field sets as server-side apply tracks them (structured-merge-diff's FieldsV1): each leaf of an object is a path
 * of tokens — `f:<field>`, `k:{"name":"pg"}` for an element of a keyed list (with `.` for the element itself) and
 * `v:<json>` for a member of a set of scalars.
 */
import type { ListMergeLookup } from "./strategic-merge-patch.ts";

type JsonObject = Record<string, unknown>;

/** A set of leaf paths; each path is its tokens joined by a newline (no token holds one: JSON escapes it). */
export type FieldSet = Set<string>;

const SEPARATOR = "\n";

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function fieldPath(path: string, key: string): string {
  return path === "" ? key : `${path}.${key}`;
}

/** The token of an element of a keyed list. */
function keyToken(key: string, item: JsonObject): string {
  return `k:${JSON.stringify({ [key]: item[key] })}`;
}

/** The leaves of `value`; `skip(tokens)` leaves out a subtree (identity fields, status). */
export function fieldSetOf(value: unknown, lists: ListMergeLookup, skip: (tokens: readonly string[]) => boolean = () => false): FieldSet {
  const out: FieldSet = new Set();
  collect(value, [], "", { lists, skip, out });
  return out;
}

interface Walk {
  lists: ListMergeLookup;
  skip: (tokens: readonly string[]) => boolean;
  out: FieldSet;
}

function collect(value: unknown, tokens: string[], path: string, walk: Walk): void {
  if (walk.skip(tokens)) return;
  if (isObject(value) && (tokens.length === 0 || Object.keys(value).length > 0)) {
    for (const [key, child] of Object.entries(value)) collect(child, [...tokens, `f:${key}`], fieldPath(path, key), walk);
  } else if (Array.isArray(value) && walk.lists(path) !== undefined) {
    collectList(value, tokens, path, walk);
  } else {
    walk.out.add(tokens.join(SEPARATOR));
  }
}

/** A keyed list: each element (`.`) and its fields; a set: each member. */
function collectList(value: readonly unknown[], tokens: string[], path: string, walk: Walk): void {
  const merge = walk.lists(path);
  for (const item of value) {
    if (merge?.type === "set") walk.out.add([...tokens, `v:${JSON.stringify(item)}`].join(SEPARATOR));
    if (merge?.type !== "map" || !isObject(item)) continue;
    const element = [...tokens, keyToken(merge.key, item)];
    walk.out.add([...element, "."].join(SEPARATOR));
    for (const [key, child] of Object.entries(item)) collect(child, [...element, `f:${key}`], fieldPath(path, key), walk);
  }
}

/** The tokens of a path in a field set. */
export function tokensOf(path: string): string[] {
  return path.split(SEPARATOR);
}

/** The value at a path (the element for `.`, true for a present set member), or undefined. */
export function valueAtPath(root: unknown, path: string): unknown {
  let current: unknown = root;
  for (const part of tokensOf(path)) {
    if (part === ".") continue;
    current = step(current, part);
    if (current === undefined) return undefined;
  }
  return current;
}

function step(current: unknown, token: string): unknown {
  const body = token.slice(2);
  if (token.startsWith("f:")) return isObject(current) && Object.hasOwn(current, body) ? current[body] : undefined;
  if (!Array.isArray(current)) return undefined;
  if (token.startsWith("v:")) return current.some((item) => JSON.stringify(item) === body) ? true : undefined;
  const [[key, wanted] = []] = Object.entries(JSON.parse(body) as JsonObject);
  return current.find((item) => isObject(item) && key !== undefined && JSON.stringify(item[key]) === JSON.stringify(wanted));
}

/** Remove the value at a path from `root` (in place): a field, a list element (`.`) or a set member. */
export function removePath(root: unknown, path: string): void {
  const tokens = tokensOf(path);
  const elementItself = tokens.at(-1) === ".";
  const own = elementItself ? tokens.slice(0, -1) : tokens;
  const last = own.at(-1);
  if (last === undefined) return;
  const parent = valueAtPath(root, own.slice(0, -1).join(SEPARATOR));
  if (last.startsWith("f:") && isObject(parent)) {
    // eslint-disable-next-line @typescript-eslint/no-dynamic-delete -- a field of a plain JSON object
    delete parent[last.slice(2)];
    return;
  }
  if (!Array.isArray(parent)) return;
  const target = last.startsWith("v:") ? (JSON.parse(last.slice(2)) as unknown) : step(parent, last);
  const index = last.startsWith("v:") ? parent.findIndex((item) => JSON.stringify(item) === JSON.stringify(target)) : parent.indexOf(target);
  if (index >= 0) parent.splice(index, 1);
}

/** FieldsV1 (nested objects of tokens, `{}` at leaves), as `metadata.managedFields[].fieldsV1` holds it. */
export function toFieldsV1(set: FieldSet): JsonObject {
  const root: JsonObject = {};
  for (const path of [...set].sort()) {
    let node = root;
    for (const token of tokensOf(path)) {
      const next = Object.hasOwn(node, token) ? node[token] : undefined;
      const child = isObject(next) ? next : {};
      Object.defineProperty(node, token, { value: child, enumerable: true, writable: true, configurable: true });
      node = child;
    }
  }
  return root;
}

/** The leaf paths of a FieldsV1 object (the inverse of toFieldsV1). */
export function fromFieldsV1(fields: unknown, prefix: string[] = []): FieldSet {
  const out: FieldSet = new Set();
  if (!isObject(fields)) return out;
  const entries = Object.entries(fields);
  if (entries.length === 0 && prefix.length > 0) out.add(prefix.join(SEPARATOR));
  for (const [token, child] of entries) for (const path of fromFieldsV1(child, [...prefix, token])) out.add(path);
  return out;
}

/** A path as people read it in a conflict: `.spec.componentSpecs[name="pg"].replicas`. */
export function displayPath(path: string): string {
  return tokensOf(path)
    .filter((token) => token !== ".")
    .map((token) => {
      if (token.startsWith("f:")) return `.${token.slice(2)}`;
      if (token.startsWith("v:")) return `[${token.slice(2)}]`;
      const [[key, value] = []] = Object.entries(JSON.parse(token.slice(2)) as JsonObject);
      return `[${String(key)}=${JSON.stringify(value)}]`;
    })
    .join("");
}
