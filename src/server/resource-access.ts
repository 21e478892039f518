/** Reading and writing one object for the resource handlers: where a write goes, what it answers, and the object it changes. */
import { type KindInfo, type ObjectRef, type Resource } from "../api/index.ts";
import { InputError, NotFoundError } from "../errors/index.ts";
import type { Store } from "../store/index.ts";
import type { WriteTarget } from "./admission/index.ts";
import type { Exchange, Reply } from "./endpoint.ts";
import { fieldValidationOf, warningHeader } from "./field-validation.ts";
import type { ResourceRoute } from "./route.ts";

/** A route to one object. */
export type NamedRoute = ResourceRoute & { name: string };

/** Where a write goes, who asks (admission checks RBAC escalation), what to do with unknown fields (`?fieldValidation=`), and where admission leaves its warnings. */
export function writeTargetOf(route: ResourceRoute, exchange: Exchange): WriteTarget & { warnings: string[] } {
  const fieldValidation = fieldValidationOf(exchange.query);
  return { kind: route.kind, namespace: route.namespace, name: route.name, subresource: route.subresource, requester: exchange.identity, fieldValidation, warnings: [] };
}

/** The reply to a write, with admission's warnings in a `Warning` header as the Kubernetes API server sends them. */
export function written(target: { warnings: readonly string[] }, status: number, body: Resource): Reply {
  const warning = warningHeader(target.warnings);
  return warning === undefined ? { status, body } : { status, body, headers: { Warning: warning } };
}

export function refOf(route: NamedRoute): ObjectRef {
  return route.kind.namespaced ? { kind: route.kind.kind, namespace: route.namespace, name: route.name } : { kind: route.kind.kind, name: route.name };
}

export async function mustGet(store: Store, route: NamedRoute): Promise<Resource> {
  const object = await findObject(store, route);
  if (object === undefined) throw notFound(route.kind, route.name, route.namespace);
  return object;
}

function notFound(kind: KindInfo, name: string, namespace: string | undefined): NotFoundError {
  const qualified = kind.group === "" ? kind.plural : `${kind.plural}.${kind.group}`;
  const where = namespace === undefined ? "" : ` in namespace ${namespace}`;
  return new NotFoundError(`${qualified} "${name}" not found${where}`, { subject: { kind: kind.plural, group: kind.group, name } });
}


/** The object a route names, or undefined when there is none (server-side apply then creates it). */
export async function findObject(store: Store, route: NamedRoute): Promise<Resource | undefined> {
  if (route.kind.namespaced && route.namespace === undefined) throw new InputError(`${route.kind.plural} are namespaced: address one under /namespaces/{namespace}/`);
  return store.get(refOf(route));
}
