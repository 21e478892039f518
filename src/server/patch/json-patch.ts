/** JSON Patch (RFC 6902) over JSON Pointers (RFC 6901): add, remove, replace, move, copy and test. */
import { z } from "zod";
import { InputError, InvalidError } from "../../errors/index.ts";
import { jsonEqual } from "../../store/index.ts";

const operationSchema = z.discriminatedUnion("op", [
  z.object({ op: z.literal("add"), path: z.string(), value: z.unknown() }),
  z.object({ op: z.literal("remove"), path: z.string() }),
  z.object({ op: z.literal("replace"), path: z.string(), value: z.unknown() }),
  z.object({ op: z.literal("move"), from: z.string(), path: z.string() }),
  z.object({ op: z.literal("copy"), from: z.string(), path: z.string() }),
  z.object({ op: z.literal("test"), path: z.string(), value: z.unknown() }),
]);

/** One JSON Patch operation. */
export type JsonPatchOperation = z.infer<typeof operationSchema>;

/** Parse a JSON Patch document (an array of operations); a malformed one is a 400 naming the operation. */
export function parseJsonPatch(body: unknown): JsonPatchOperation[] {
  if (!Array.isArray(body)) throw new InputError("a JSON patch must be an array of operations, such as [{\"op\":\"replace\",\"path\":\"/spec/replicas\",\"value\":3}]");
  return body.map((operation, index) => {
    const parsed = operationSchema.safeParse(operation);
    if (parsed.success) return parsed.data;
    const issues = parsed.error.issues.map((i) => `${i.path.join(".") || "(operation)"}: ${i.message}`).join("; ");
    throw new InputError(`JSON patch operation ${index} is malformed: ${issues}`);
  });
}

type Container = Record<string, unknown> | unknown[];

/** The reference tokens of a JSON Pointer (`/a/b~1c` → ["a", "b/c"]). */
export function pointerTokens(pointer: string): string[] {
  if (pointer === "") return [];
  if (!pointer.startsWith("/")) throw new InputError(`the JSON pointer ${JSON.stringify(pointer)} must be empty or start with '/'`);
  return pointer.slice(1).split("/").map((token) => token.replace(/~1/g, "/").replace(/~0/g, "~"));
}

/** A failing operation: 422, naming the operation and why, as the Kubernetes API server answers. */
function failed(index: number, operation: JsonPatchOperation, why: string): InvalidError {
  return new InvalidError(`JSON patch operation ${index} (${operation.op} ${operation.path}) failed: ${why}`, {
    causes: [{ field: operation.path, reason: "FieldValueInvalid", message: why }],
  });
}

function isContainer(value: unknown): value is Container {
  return typeof value === "object" && value !== null;
}

/** The container that holds the last token of `tokens`, walking from `root`. */
function parentOf(root: unknown, tokens: string[]): { parent: Container; key: string } | string {
  let current: unknown = root;
  for (const token of tokens.slice(0, -1)) {
    const next = childOf(current, token);
    if (next === undefined) return `the path does not exist (no ${JSON.stringify(token)})`;
    current = next;
  }
  if (!isContainer(current)) return "the parent is not an object or an array";
  return { parent: current, key: tokens.at(-1) ?? "" };
}

function childOf(value: unknown, token: string): unknown {
  if (Array.isArray(value)) {
    const index = arrayIndex(token, value.length - 1);
    return index === undefined ? undefined : value[index];
  }
  if (isContainer(value) && Object.hasOwn(value, token)) return (value as Record<string, unknown>)[token];
  return undefined;
}

/** A valid array index in 0..max (no leading zeros, as RFC 6901 says), or undefined. */
function arrayIndex(token: string, max: number): number | undefined {
  if (!/^(0|[1-9][0-9]*)$/.test(token)) return undefined;
  const index = Number(token);
  return index <= max ? index : undefined;
}

function valueAt(root: unknown, pointer: string): { found: true; value: unknown } | { found: false } {
  let current: unknown = root;
  for (const token of pointerTokens(pointer)) {
    current = childOf(current, token);
    if (current === undefined) return { found: false };
  }
  return { found: true, value: current };
}

/** The document being patched; operations change it in place and return why they failed, if they did. */
interface Doc {
  root: unknown;
}

function add(doc: Doc, pointer: string, value: unknown): string | undefined {
  const tokens = pointerTokens(pointer);
  if (tokens.length === 0) {
    doc.root = structuredClone(value);
    return undefined;
  }
  const place = parentOf(doc.root, tokens);
  if (typeof place === "string") return place;
  const { parent, key } = place;
  if (!Array.isArray(parent)) {
    Object.defineProperty(parent, key, { value: structuredClone(value), enumerable: true, writable: true, configurable: true });
    return undefined;
  }
  const index = key === "-" ? parent.length : arrayIndex(key, parent.length);
  if (index === undefined) return `${JSON.stringify(key)} is not an index of the array (0..${parent.length} or -)`;
  parent.splice(index, 0, structuredClone(value));
  return undefined;
}

function remove(doc: Doc, pointer: string): string | undefined {
  const tokens = pointerTokens(pointer);
  if (tokens.length === 0) return "the whole document cannot be removed";
  const place = parentOf(doc.root, tokens);
  if (typeof place === "string") return place;
  const { parent, key } = place;
  if (Array.isArray(parent)) {
    const index = arrayIndex(key, parent.length - 1);
    if (index === undefined) return `the array has no index ${JSON.stringify(key)}`;
    parent.splice(index, 1);
    return undefined;
  }
  if (!Object.hasOwn(parent, key)) return "the path does not exist";
  // eslint-disable-next-line @typescript-eslint/no-dynamic-delete -- the key is a field of a plain JSON object
  delete parent[key];
  return undefined;
}

function replace(doc: Doc, pointer: string, value: unknown): string | undefined {
  if (!valueAt(doc.root, pointer).found) return "the path does not exist (replace needs an existing value; use add)";
  if (pointer !== "") {
    const removed = remove(doc, pointer);
    if (removed !== undefined) return removed;
  }
  return add(doc, pointer, value);
}

function test(doc: Doc, pointer: string, value: unknown): string | undefined {
  const found = valueAt(doc.root, pointer);
  if (!found.found) return "the path does not exist";
  return jsonEqual(found.value, value) ? undefined : `the value is ${JSON.stringify(found.value)}, not ${JSON.stringify(value)}`;
}

function moveOrCopy(doc: Doc, operation: Extract<JsonPatchOperation, { op: "move" | "copy" }>): string | undefined {
  const source = valueAt(doc.root, operation.from);
  if (!source.found) return `the source ${operation.from} does not exist`;
  if (operation.op === "move") {
    if (operation.path.startsWith(`${operation.from}/`)) return "a value cannot be moved into itself";
    const removed = remove(doc, operation.from);
    if (removed !== undefined) return removed;
  }
  return add(doc, operation.path, source.value);
}

function step(doc: Doc, operation: JsonPatchOperation): string | undefined {
  switch (operation.op) {
    case "add":
      return add(doc, operation.path, operation.value);
    case "remove":
      return remove(doc, operation.path);
    case "replace":
      return replace(doc, operation.path, operation.value);
    case "move":
    case "copy":
      return moveOrCopy(doc, operation);
    case "test":
      return test(doc, operation.path, operation.value);
  }
}

/**
 * Apply a JSON Patch to a copy of `target`, all operations or none: the first failing operation (a `test` that
 * does not match, a path that does not exist) is a 422 naming it.
 */
export function applyJsonPatch(target: unknown, operations: readonly JsonPatchOperation[]): unknown {
  const doc: Doc = { root: structuredClone(target) };
  operations.forEach((operation, index) => {
    const problem = step(doc, operation);
    if (problem !== undefined) throw failed(index, operation, problem);
  });
  return doc.root;
}
