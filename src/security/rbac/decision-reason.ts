/** The words of RBAC decisions, shown in audit records, can-i answers and 403 messages. */
import type { RequestAttributes } from "../identity.ts";
import type { BindingEntry } from "./policy-snapshot.ts";
import { combinedResource } from "./rule-match.ts";

/** `get apps.kubeblocks.io/clusters/status "db1"`: the request in one phrase. */
export function describeRequest(attributes: RequestAttributes): string {
  if (attributes.path !== undefined) return `${attributes.verb} ${attributes.path}`;
  const resource = combinedResource(attributes);
  const qualified = attributes.apiGroup === "" ? resource : `${attributes.apiGroup}/${resource}`;
  const name = attributes.name === undefined || attributes.name === "" ? "" : ` ${JSON.stringify(attributes.name)}`;
  return `${attributes.verb} ${qualified}${name}`;
}

/** `in namespace team-a`, or `at cluster scope`. */
export function describeScope(namespace: string | undefined): string {
  return namespace === undefined || namespace === "" ? "at cluster scope" : `in namespace ${namespace}`;
}

/** `RBAC: allowed by ClusterRoleBinding "x" of ClusterRole "admin"` (RoleBindings are named `namespace/name`). */
export function allowedReason(binding: BindingEntry): string {
  const bindingName = binding.namespace === undefined ? binding.name : `${binding.namespace}/${binding.name}`;
  return `RBAC: allowed by ${binding.kind} ${JSON.stringify(bindingName)} of ${binding.roleRef.kind} ${JSON.stringify(binding.roleRef.name)}`;
}

/** `RBAC: no rule allows get secrets in namespace team-b`. */
export function deniedReason(attributes: RequestAttributes): string {
  return `RBAC: no rule allows ${describeRequest(attributes)} ${describeScope(attributes.namespace)}`;
}
