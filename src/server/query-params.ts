/**
 * The query parameters each operation accepts, as Kubernetes names them. A parameter the server does not implement
 * is refused (400) rather than ignored, so a client never believes it got what it asked for (`?dryRun=All` that
 * changed the live object, a `fieldSelector` that selected nothing).
 */
import { InputError } from "../errors/index.ts";

/** What a request does, for the parameters it may carry. */
export type Operation = "get" | "list" | "watch" | "create" | "update" | "patch" | "delete" | "discovery" | "openapi";

// `timeout` is client-go's per-request timeout (kubectl sends it on discovery); the server's own limits are shorter.
const ANY = ["pretty", "timeout"] as const;
const LIST = ["labelSelector", "fieldSelector", "resourceVersion", "resourceVersionMatch", "limit", "continue", "watch", "allowWatchBookmarks", "timeoutSeconds"] as const;
// `fieldManager` and `fieldValidation` are Kubernetes' write parameters; admission decides what they mean.
const WRITE = ["dryRun", "fieldManager", "fieldValidation"] as const;
// `uid` and `resourceVersion` are preconditions, as in a DeleteOptions body.
const DELETE = ["dryRun", "propagationPolicy", "gracePeriodSeconds", "uid", "resourceVersion"] as const;

const ALLOWED: Readonly<Record<Operation, readonly string[]>> = {
  // `includeObject` shapes a Table answer (Accept: as=Table), as kubectl get asks for it.
  get: [...ANY, "resourceVersion", "includeObject"],
  list: [...ANY, ...LIST, "includeObject"],
  watch: [...ANY, ...LIST],
  create: [...ANY, ...WRITE],
  update: [...ANY, ...WRITE],
  // `force` takes the fields of other managers in a server-side apply.
  patch: [...ANY, ...WRITE, "force"],
  delete: [...ANY, ...DELETE],
  discovery: ANY,
  // `hash` is the cache key of an OpenAPI v3 document, as `/openapi/v3` lists it.
  openapi: [...ANY, "hash"],
};

/** The operation of a verb on a resource path (write verbs map to themselves; anything else reads). */
export function operationOf(verb: string): Operation {
  return verb in ALLOWED ? (verb as Operation) : "get";
}

/** Refuse parameters `operation` does not take, and values the server does not implement. */
export function checkQuery(operation: Operation, query: URLSearchParams): void {
  const allowed = ALLOWED[operation];
  const unknown = [...new Set(query.keys())].filter((key) => !allowed.includes(key));
  if (unknown.length > 0) {
    const names = unknown.map((key) => JSON.stringify(key)).join(", ");
    throw new InputError(`query parameter${unknown.length > 1 ? "s" : ""} ${names} ${unknown.length > 1 ? "are" : "is"} not supported on ${operation}; supported: ${allowed.join(", ")}`, {
      causes: unknown.map((key) => ({ field: key, reason: "FieldValueNotSupported", message: `not supported on ${operation}` })),
    });
  }
  for (const key of query.keys()) VALUE_CHECKS[key]?.(query);
}

const VALUE_CHECKS: Readonly<Record<string, (query: URLSearchParams) => void>> = {
  watch: (query) => void booleanParam(query, "watch"),
  allowWatchBookmarks: (query) => void booleanParam(query, "allowWatchBookmarks"),
  pretty: (query) => void booleanParam(query, "pretty"),
  force: (query) => void booleanParam(query, "force"),
  includeObject: (query) => {
    if (!["None", "Metadata", "Object"].includes(query.get("includeObject") ?? "")) throw badValue("includeObject", "use None, Metadata or Object");
  },
  dryRun: (query) => void dryRunOf(query),
  limit: (query) => void integerParam(query, "limit"),
  timeoutSeconds: (query) => void integerParam(query, "timeoutSeconds"),
  gracePeriodSeconds: (query) => void integerParam(query, "gracePeriodSeconds"),
  continue: (query) => {
    if ((query.get("continue") ?? "") !== "") throw badValue("continue", "this server never splits a list, so there is no list to continue; list again without it");
  },
  resourceVersionMatch: (query) => {
    const value = query.get("resourceVersionMatch") ?? "";
    if (value !== "" && value !== "NotOlderThan") throw badValue("resourceVersionMatch", `only NotOlderThan is supported (a list is always the current state), not ${JSON.stringify(value)}`);
  },
  propagationPolicy: (query) => checkPropagationPolicy(query.get("propagationPolicy") ?? undefined),
};

function badValue(name: string, problem: string): InputError {
  return new InputError(`query parameter ${name}: ${problem}`, { causes: [{ field: name, reason: "FieldValueNotSupported", message: problem }] });
}

/** A boolean parameter: `true`/`false`/`1`/`0` in any case (the Python client sends `True`); absent is false. */
export function booleanParam(query: URLSearchParams, name: string): boolean {
  const value = query.get(name);
  if (value === null || value === "") return false;
  const lower = value.toLowerCase();
  if (lower === "true" || lower === "1") return true;
  if (lower === "false" || lower === "0") return false;
  throw badValue(name, `expected true or false, not ${JSON.stringify(value)}`);
}

/** A non-negative integer parameter, or undefined when absent. */
export function integerParam(query: URLSearchParams, name: string): number | undefined {
  const value = query.get(name);
  if (value === null || value === "") return undefined;
  if (!/^[0-9]{1,9}$/.test(value)) throw badValue(name, `expected a non-negative integer, not ${JSON.stringify(value)}`);
  return Number(value);
}

/** Whether the request asks for a dry run: `dryRun=All` (every stage); any other value is refused. */
export function dryRunOf(query: URLSearchParams): boolean {
  return dryRunValues(query.getAll("dryRun"));
}

/** The dryRun values of a query or of a DeleteOptions body: empty, or `All` only. */
export function dryRunValues(values: readonly string[]): boolean {
  const unknown = values.filter((value) => value !== "All");
  if (unknown.length > 0) throw badValue("dryRun", `the only dry-run mode is All, not ${JSON.stringify(unknown[0])}`);
  return values.length > 0;
}

/** Refuse `dryRun` where nothing can be dry-run (the security and data-protection actions). */
export function checkNoDryRun(query: URLSearchParams): void {
  if (query.has("dryRun")) throw badValue("dryRun", "this endpoint acts at once and has no dry run");
}

/** Deleting removes dependents in the background (Background, kubectl's default); other policies are not implemented. */
export function checkPropagationPolicy(value: string | undefined): void {
  if (value === undefined || value === "" || value === "Background") return;
  throw badValue("propagationPolicy", `only Background is supported (dependents are removed after their owner), not ${JSON.stringify(value)}`);
}
