/** The Kubernetes authorization attributes of a request on a resource path (pure). */
import type { RequestAttributes } from "../../security/index.ts";
import { booleanParam } from "../query-params.ts";
import type { ResourceRoute } from "../route.ts";

const VERB_BY_METHOD: Record<string, string> = { POST: "create", PUT: "update", PATCH: "patch", DELETE: "delete" };

/** get/list/watch for GET (watch when `?watch=true`), else the write verb; the status subresource is kept. */
export function resourceAttributes(route: ResourceRoute, method: string, query: URLSearchParams): RequestAttributes {
  const watch = booleanParam(query, "watch");
  const verb = method === "GET" ? (route.name !== undefined ? "get" : watch ? "watch" : "list") : (VERB_BY_METHOD[method] ?? method.toLowerCase());
  return {
    verb,
    apiGroup: route.kind.group,
    resource: route.kind.plural,
    ...(route.subresource === undefined ? {} : { subresource: route.subresource }),
    // A namespace object is addressed by name; its own namespace attribute is its name, as in Kubernetes.
    ...(route.namespace === undefined ? (route.kind.kind === "Namespace" && route.name !== undefined ? { namespace: route.name } : {}) : { namespace: route.namespace }),
    ...(route.name === undefined ? {} : { name: route.name }),
  };
}

/** Is this a write (recorded before it happens, and refused if the record cannot be written)? */
export function isMutation(verb: string): boolean {
  return verb !== "get" && verb !== "list" && verb !== "watch";
}
