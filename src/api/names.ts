/** Which names each kind accepts: the rule of its schema, usable where there is no object yet (paths, the CLI). */
import type { z } from "zod";
import { dns1123LabelSchema, dns1123SubdomainSchema } from "./common.ts";
import type { KindInfo } from "./kinds.ts";
import { RBAC_GROUP, rbacNameSchema } from "./rbac.ts";

function nameSchemaOf(kind: KindInfo): z.ZodType<string> {
  if (kind.kind === "Namespace") return dns1123LabelSchema;
  if (kind.group === RBAC_GROUP) return rbacNameSchema;
  return dns1123SubdomainSchema;
}

/** Why `name` is not a valid name for an object of `kind`, or undefined when it is. */
export function objectNameProblem(kind: KindInfo, name: string): string | undefined {
  const result = nameSchemaOf(kind).safeParse(name);
  if (result.success) return undefined;
  return result.error.issues[0]?.message ?? "is not a valid name";
}

/** Why `namespace` is not a valid namespace name (a DNS-1123 label), or undefined when it is. */
export function namespaceNameProblem(namespace: string): string | undefined {
  const result = dns1123LabelSchema.safeParse(namespace);
  if (result.success) return undefined;
  return result.error.issues[0]?.message ?? "is not a valid namespace name";
}
