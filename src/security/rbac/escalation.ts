/**
 * Kubernetes' escalation rule: nobody grants what they do not hold. A Role or ClusterRole may only contain rules
 * its author already holds in that scope (or the author has `escalate`); a binding may only grant a role whose rules
 * its author already holds in that scope (or the author has `bind` on that role).
 */
import { RBAC_GROUP, type ClusterRole, type ClusterRoleBinding, type PolicyRule, type Role, type RoleBinding } from "../../api/index.ts";
import { ForbiddenError, InvalidError } from "../../errors/index.ts";
import type { Authorizer } from "./authorizer.ts";
import { describeScope } from "./decision-reason.ts";
import type { Requester } from "./policy-snapshot.ts";
import { describeRule, uncoveredRules } from "./rule-coverage.ts";

/** An RBAC object being created or updated. */
export type RbacObject = Role | ClusterRole | RoleBinding | ClusterRoleBinding;

// Holding this is what an aggregationRule may gather, so only a full administrator may set one (as in Kubernetes).
const FULL_AUTHORITY: readonly PolicyRule[] = [{ apiGroups: ["*"], resources: ["*"], verbs: ["*"] }];
const SHOWN_RULES = 5;

/** Throw ForbiddenError unless `requester` may write `object` without gaining or granting more than they hold. */
export async function checkEscalation(authorizer: Authorizer, requester: Requester, object: RbacObject, namespace: string | undefined): Promise<void> {
  const scope = scopeOf(object, namespace);
  if (object.kind === "Role" || object.kind === "ClusterRole") {
    await checkRole(authorizer, requester, object, scope);
  } else {
    await checkBinding(authorizer, requester, object, scope);
  }
}

/**
 * Throw ForbiddenError unless `requester` may act as `subject` (e.g. create an API token for that user): with an
 * `impersonate` grant on the user, or by holding every permission the subject holds, cluster-wide and in each
 * namespace where the subject is bound (the escalation rule: nobody hands out what they do not hold).
 */
export async function checkActingAs(authorizer: Authorizer, requester: Requester, subject: Requester): Promise<void> {
  const impersonate = { verb: "impersonate", apiGroup: "", resource: "users", name: subject.username };
  if ((await authorizer.authorize(requester, impersonate)).allowed) return;
  const scopes = [undefined, ...(await authorizer.boundNamespaces(subject))];
  for (const scope of scopes) {
    const missing = uncoveredRules(await authorizer.rulesFor(requester, scope), await authorizer.rulesFor(subject, scope));
    if (missing.length === 0) continue;
    const shown = missing.slice(0, SHOWN_RULES).map(describeRule).join(", ");
    const more = missing.length > SHOWN_RULES ? ` and ${missing.length - SHOWN_RULES} more` : "";
    throw new ForbiddenError(
      `cannot act as user "${subject.username}": they hold ${shown}${more} ${describeScope(scope)}, which you do not; only someone who holds every permission of a user, or the impersonate verb on users "${subject.username}", may do so`,
      { subject: { kind: "users", name: subject.username } },
    );
  }
}

function scopeOf(object: RbacObject, namespace: string | undefined): string | undefined {
  if (object.kind === "ClusterRole" || object.kind === "ClusterRoleBinding") return undefined;
  const scope = namespace ?? object.metadata.namespace;
  if (scope === undefined || scope === "") {
    throw new InvalidError(`${object.kind} "${object.metadata.name}" is namespaced: set metadata.namespace`, {
      causes: [{ field: "metadata.namespace", message: "Required value", reason: "FieldValueRequired" }],
    });
  }
  return scope;
}

async function checkRole(authorizer: Authorizer, requester: Requester, role: Role | ClusterRole, scope: string | undefined): Promise<void> {
  const resource = role.kind === "Role" ? "roles" : "clusterroles";
  const escalate = { verb: "escalate", apiGroup: RBAC_GROUP, resource, name: role.metadata.name, ...(scope === undefined ? {} : { namespace: scope }) };
  if ((await authorizer.authorize(requester, escalate)).allowed) return;
  const granted = role.kind === "ClusterRole" && role.aggregationRule !== undefined ? [...role.rules, ...FULL_AUTHORITY] : role.rules;
  const missing = uncoveredRules(await authorizer.rulesFor(requester, scope), granted);
  if (missing.length === 0) return;
  throw forbidden(role, scope, missing, `the escalate verb on ${resource}`);
}

async function checkBinding(authorizer: Authorizer, requester: Requester, binding: RoleBinding | ClusterRoleBinding, scope: string | undefined): Promise<void> {
  const { roleRef } = binding;
  const resource = roleRef.kind === "Role" ? "roles" : "clusterroles";
  const bind = { verb: "bind", apiGroup: roleRef.apiGroup, resource, name: roleRef.name, ...(scope === undefined ? {} : { namespace: scope }) };
  if ((await authorizer.authorize(requester, bind)).allowed) return;
  const granted = await authorizer.roleRules(roleRef, scope);
  if (granted === undefined) {
    throw new ForbiddenError(
      `cannot write ${binding.kind} "${binding.metadata.name}": ${roleRef.kind} "${roleRef.name}" does not exist ${describeScope(scope)}, so what it grants cannot be checked; create the role first, or get the bind verb on ${resource}`,
      { subject: { kind: binding.kind, name: binding.metadata.name, group: RBAC_GROUP } },
    );
  }
  const missing = uncoveredRules(await authorizer.rulesFor(requester, scope), granted);
  if (missing.length === 0) return;
  throw forbidden(binding, scope, missing, `the bind verb on ${resource} "${roleRef.name}"`);
}

function forbidden(object: RbacObject, scope: string | undefined, missing: readonly PolicyRule[], alternative: string): ForbiddenError {
  const shown = missing.slice(0, SHOWN_RULES).map(describeRule).join(", ");
  const more = missing.length > SHOWN_RULES ? ` and ${missing.length - SHOWN_RULES} more` : "";
  const via = object.kind === "RoleBinding" || object.kind === "ClusterRoleBinding" ? ` (through ${object.roleRef.kind} "${object.roleRef.name}")` : "";
  return new ForbiddenError(
    `cannot write ${object.kind} "${object.metadata.name}": it would grant ${shown}${more}${via}, which you do not hold ${describeScope(scope)}; ask someone who holds these permissions, or get ${alternative}`,
    { subject: { kind: object.kind, name: object.metadata.name, group: RBAC_GROUP } },
  );
}
