/** Kubernetes RBAC: the authorizer, built-in roles, the escalation rule and access reviews. */
export { Authorizer, type AuthorizerOptions } from "./authorizer.ts";
export { PolicyCache, type PolicyCacheOptions } from "./policy-cache.ts";
export { serviceAccountUsername, type BindingEntry, type Requester } from "./policy-snapshot.ts";
export { combinedResource, findAllowingRule, ruleAllows, WILDCARD } from "./rule-match.ts";
export { breakdownRule, describeRule, ruleCovers, uncoveredRules } from "./rule-coverage.ts";
export { checkActingAs, checkEscalation, type RbacObject } from "./escalation.ts";
export { allowedReason, deniedReason, describeRequest, describeScope } from "./decision-reason.ts";
export {
  AUTOUPDATE_ANNOTATION,
  BOOTSTRAP_LABEL,
  BUILTIN_ROLE_NAMES,
  builtinClusterRoleBindings,
  builtinClusterRoles,
  MASTERS_GROUP,
  MONITORING_URLS,
} from "./builtin-roles.ts";
export { bindClusterAdmin, CLUSTER_ADMINS_BINDING, ensureBuiltinRoles } from "./ensure-builtin-roles.ts";
export { attributesFromReview, describeDecision, reviewSelfAccess, reviewStatus, reviewSubjectAccess } from "./access-review.ts";
