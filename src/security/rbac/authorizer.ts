/** The RBAC authorizer: deny by default; allow when a binding that applies to the requester has a rule that allows. */
import type { PolicyRule, RoleRef } from "../../api/index.ts";
import type { Store } from "../../store/index.ts";
import type { Decision, RequestAttributes } from "../identity.ts";
import { allowedReason, deniedReason } from "./decision-reason.ts";
import { PolicyCache, type PolicyCacheOptions } from "./policy-cache.ts";
import type { Requester } from "./policy-snapshot.ts";
import { findAllowingRule } from "./rule-match.ts";

/** Options of the authorizer. */
export type AuthorizerOptions = PolicyCacheOptions;

/** Answers "may this requester do this?" from the Roles, ClusterRoles and bindings in the store. */
export class Authorizer {
  private readonly cache: PolicyCache;

  constructor(store: Store, options: AuthorizerOptions = {}) {
    this.cache = new PolicyCache(store, options);
  }

  /** Decide one request. ClusterRoleBindings grant everywhere; a RoleBinding only in its own namespace. */
  async authorize(requester: Requester, attributes: RequestAttributes): Promise<Decision> {
    const snapshot = await this.cache.current();
    for (const { binding, rules } of snapshot.grantsFor(requester, attributes.namespace)) {
      if (findAllowingRule(rules, attributes) !== undefined) return { allowed: true, reason: allowedReason(binding) };
    }
    return { allowed: false, reason: deniedReason(attributes) };
  }

  /** Every rule the requester holds in `namespace` (undefined: the rules that hold cluster-wide). */
  async rulesFor(requester: Requester, namespace: string | undefined): Promise<PolicyRule[]> {
    const snapshot = await this.cache.current();
    return snapshot.grantsFor(requester, namespace).flatMap(({ rules }) => rules);
  }

  /** The namespaces in which a RoleBinding grants the requester something. */
  async boundNamespaces(requester: Requester): Promise<string[]> {
    return (await this.cache.current()).boundNamespaces(requester);
  }

  /** The rules of the role `roleRef` names, seen from `namespace`; undefined when that role does not exist. */
  async roleRules(roleRef: RoleRef, namespace: string | undefined): Promise<readonly PolicyRule[] | undefined> {
    const snapshot = await this.cache.current();
    return snapshot.rulesOf(roleRef, namespace);
  }

  /** Stop watching the store. */
  close(): void {
    this.cache.close();
  }
}
