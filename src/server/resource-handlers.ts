/** The verbs on resource paths: get, list, watch, create, update, patch, delete, and the status subresource. */
import { apiVersionOf, type Resource } from "../api/index.ts";
import { InputError } from "../errors/index.ts";
import type { DeleteOptions, Store } from "../store/index.ts";
import type { Authorizer } from "../security/index.ts";
import type { Admission } from "./admission/index.ts";
import type { Exchange, Outcome, Reply } from "./endpoint.ts";
import { MethodNotAllowedError } from "./http-errors.ts";
import { z } from "zod";
import { matchesFieldSelector, parseFieldSelector } from "./field-selector.ts";
import { patchObject, patchStatus, withWriter } from "./patch-handlers.ts";
import { booleanParam, checkPropagationPolicy, dryRunOf, dryRunValues, integerParam } from "./query-params.ts";
import { hasBody, requireMediaType } from "./request-body.ts";
import { mustGet, refOf, writeTargetOf, written, type NamedRoute } from "./resource-access.ts";
import type { ResourceRoute } from "./route.ts";
import { includeObjectOf, tableVersionOf, toTable, type TableRequest } from "./table.ts";
import { startWatch } from "./watch-stream.ts";

/** What the resource handlers use. */
export interface ResourceDeps {
  store: Store;
  admission: Admission;
  authorizer: Authorizer;
}

/** Marks the answer of a dry run (the body is what the write would have returned; nothing was stored). */
export const DRY_RUN_HEADER = "X-Holdfast-Dry-Run";

/** Serve one request on a resource path: a reply, or a stream for a watch. */
export async function serveResource(deps: ResourceDeps, route: ResourceRoute, exchange: Exchange): Promise<Outcome> {
  const method = exchange.request.method ?? "GET";
  if (route.name === undefined) return serveCollection(deps, route, method, exchange);
  const named = { ...route, name: route.name };
  const reply = route.subresource === "status" ? await serveStatus(deps, named, method, exchange) : await serveObject(deps, named, method, exchange);
  return method !== "GET" && (await isDryRun(exchange)) ? { ...reply, headers: { ...reply.headers, [DRY_RUN_HEADER]: "All" } } : reply;
}


/** Whether a write asks for a dry run: `?dryRun=All`, or `dryRun: ["All"]` in a DeleteOptions body. */
export async function isDryRun(exchange: Exchange): Promise<boolean> {
  if (dryRunOf(exchange.query)) return true;
  if (exchange.request.method !== "DELETE") return false;
  return (await deleteOptions(exchange)).dryRun === true;
}

async function serveCollection(deps: ResourceDeps, route: ResourceRoute, method: string, exchange: Exchange): Promise<Outcome> {
  const { query } = exchange;
  if (method === "GET" && booleanParam(query, "watch")) {
    const watch = {
      kind: route.kind.kind,
      namespace: route.namespace,
      labelSelector: query.get("labelSelector") ?? undefined,
      fieldSelector: parseFieldSelector(query.get("fieldSelector") ?? "", route.kind),
      timeoutSeconds: integerParam(query, "timeoutSeconds") || undefined,
      resourceVersion: query.get("resourceVersion") ?? undefined,
      present: tableOf(route, exchange, (table, object: Resource) => toTable([object], table)),
    };
    return { status: 200, start: (response) => startWatch(deps.store, watch, response) };
  }
  if (method === "GET") return { status: 200, body: await list(deps.store, route, exchange) };
  if (method === "POST" && (route.namespace !== undefined || !route.kind.namespaced)) {
    requireMediaType(exchange.request, "application/json");
    const target = writeTargetOf(route, exchange);
    const object = withWriter(route, exchange, undefined, await deps.admission.admitWrite(target, await exchange.body(), undefined));
    const dryRun = dryRunOf(query);
    const reply = written(target, 201, await deps.store.create(object, { dryRun }));
    return dryRun ? { ...reply, headers: { ...reply.headers, [DRY_RUN_HEADER]: "All" } } : reply;
  }
  throw notAllowed(method, route, "GET (list, ?watch=true) and, within a namespace, POST");
}

async function list(store: Store, route: ResourceRoute, exchange: Exchange): Promise<unknown> {
  const { query } = exchange;
  const labelSelector = query.get("labelSelector");
  const fieldSelector = parseFieldSelector(query.get("fieldSelector") ?? "", route.kind);
  const options = { ...(route.namespace === undefined ? {} : { namespace: route.namespace }), ...(labelSelector === null ? {} : { labelSelector }) };
  const result = await store.list(route.kind.kind, options);
  const items = result.items.filter((item) => matchesFieldSelector(fieldSelector, item));
  const table = tableOf(route, exchange, (request) => toTable(items, request, result.resourceVersion));
  if (table !== undefined) return table();
  return { apiVersion: apiVersionOf(route.kind), kind: `${route.kind.kind}List`, metadata: { resourceVersion: result.resourceVersion }, items };
}

/** When the client asks for a Table (`Accept: …;as=Table`), how to print: `render` bound to the request. */
function tableOf<A extends unknown[], R>(route: ResourceRoute, exchange: Exchange, render: (request: TableRequest, ...args: A) => R): ((...args: A) => R) | undefined {
  const version = tableVersionOf(exchange.request.headers.accept);
  if (version === undefined) return undefined;
  const request: TableRequest = { kind: route.kind, version, include: includeObjectOf(exchange.query) };
  return (...args) => render(request, ...args);
}

async function serveObject(deps: ResourceDeps, route: NamedRoute, method: string, exchange: Exchange): Promise<Reply> {
  const { store, admission } = deps;
  const options = { dryRun: dryRunOf(exchange.query) };
  switch (method) {
    case "GET": {
      const object = await mustGet(store, route);
      return { status: 200, body: tableOf(route, exchange, (request) => toTable([object], request, object.metadata.resourceVersion))?.() ?? object };
    }
    case "PUT": {
      const target = writeTargetOf(route, exchange);
      requireMediaType(exchange.request, "application/json");
      const body = await exchange.body();
      const old = await mustGet(store, route);
      return written(target, 200, await store.update(withWriter(route, exchange, old, await admission.admitWrite(target, body, old)), options));
    }
    case "PATCH":
      return patchObject(deps, route, exchange);
    case "DELETE":
      return { status: 200, body: await remove(deps, route, exchange) };
    default:
      throw notAllowed(method, route, "GET, PUT, PATCH and DELETE");
  }
}

async function serveStatus(deps: ResourceDeps, route: NamedRoute, method: string, exchange: Exchange): Promise<Reply> {
  const { store, admission } = deps;
  const options = { dryRun: dryRunOf(exchange.query) };
  if (method === "GET") return { status: 200, body: await mustGet(store, route) };
  if (method === "PUT") {
    const target = writeTargetOf(route, exchange);
    requireMediaType(exchange.request, "application/json");
    const body = await exchange.body();
    const old = await mustGet(store, route);
    return written(target, 200, await store.updateStatus(await admission.admitWrite(target, body, old), options));
  }
  if (method === "PATCH") return patchStatus(deps, route, exchange);
  throw notAllowed(method, route, "GET, PUT and PATCH on status");
}

async function remove(deps: ResourceDeps, route: NamedRoute, exchange: Exchange): Promise<Resource> {
  const options = await deleteOptions(exchange);
  const current = await mustGet(deps.store, route);
  await deps.admission.admitDelete(route.kind, current);
  const deleted = await deps.store.delete(refOf(route), options);
  return deleted ?? current;
}

// A DeleteOptions body, as kubectl and the Python client send it; fields the server does not implement are refused.
const deleteOptionsSchema = z.looseObject({
  kind: z.literal("DeleteOptions").optional(),
  apiVersion: z.string().optional(),
  dryRun: z.array(z.string()).optional(),
  propagationPolicy: z.string().optional(),
  gracePeriodSeconds: z.int().nonnegative().optional(),
  preconditions: z.looseObject({ uid: z.string().optional(), resourceVersion: z.string().optional() }).optional(),
});

/** Preconditions and dry run from a DeleteOptions body (`preconditions.uid/resourceVersion`, `dryRun`) or the query. */
async function deleteOptions(exchange: Exchange): Promise<DeleteOptions> {
  const options: DeleteOptions = {};
  let body: z.infer<typeof deleteOptionsSchema> = {};
  if (hasBody(exchange.request)) {
    requireMediaType(exchange.request, "application/json");
    const parsed = deleteOptionsSchema.safeParse((await exchange.body()) ?? {});
    if (!parsed.success) throw new InputError(`the body of a DELETE must be DeleteOptions: ${parsed.error.issues.map((i) => `${i.path.join(".") || "(body)"}: ${i.message}`).join("; ")}`);
    body = parsed.data;
  }
  checkPropagationPolicy(body.propagationPolicy);
  const uid = body.preconditions?.uid ?? exchange.query.get("uid") ?? undefined;
  const resourceVersion = body.preconditions?.resourceVersion ?? exchange.query.get("resourceVersion") ?? undefined;
  if (uid !== undefined) options.uid = uid;
  if (resourceVersion !== undefined) options.resourceVersion = resourceVersion;
  if (dryRunOf(exchange.query) || dryRunValues(body.dryRun ?? [])) options.dryRun = true;
  return options;
}

function notAllowed(method: string, route: ResourceRoute, allowed: string): MethodNotAllowedError {
  return new MethodNotAllowedError(`${method} is not allowed here; ${route.kind.plural} support ${allowed}`, { subject: { kind: route.kind.plural, group: route.kind.group } });
}
