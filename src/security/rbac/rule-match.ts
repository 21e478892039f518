/** Whether one RBAC rule allows one request, with Kubernetes' matching of wildcards, subresources and resourceNames. */
import type { PolicyRule } from "../../api/index.ts";
import type { RequestAttributes } from "../identity.ts";

/** The wildcard of verbs, apiGroups and resources. */
export const WILDCARD = "*";

/** `resource` or `resource/subresource`, as rules name it. */
export function combinedResource(attributes: Pick<RequestAttributes, "resource" | "subresource">): string {
  const { resource, subresource } = attributes;
  return subresource === undefined || subresource === "" ? resource : `${resource}/${subresource}`;
}

/** Whether `rule` allows the request described by `attributes`. */
export function ruleAllows(rule: PolicyRule, attributes: RequestAttributes): boolean {
  if (attributes.path !== undefined) return verbMatches(rule, attributes.verb) && nonResourceURLMatches(rule.nonResourceURLs ?? [], attributes.path);
  return (
    verbMatches(rule, attributes.verb) &&
    apiGroupMatches(rule, attributes.apiGroup) &&
    resourceMatches(rule, attributes) &&
    resourceNameMatches(rule, attributes.name)
  );
}

/** The first rule that allows the request, if any. */
export function findAllowingRule(rules: readonly PolicyRule[], attributes: RequestAttributes): PolicyRule | undefined {
  return rules.find((rule) => ruleAllows(rule, attributes));
}

/**
 * Kubernetes' non-resource URL match: `*` matches every path, `/prefix/*` every path under the prefix, anything else
 * only itself.
 */
export function nonResourceURLMatches(patterns: readonly string[], path: string): boolean {
  return patterns.some((pattern) => pattern === WILDCARD || pattern === path || (pattern.endsWith(WILDCARD) && path.startsWith(pattern.slice(0, -1))));
}

function verbMatches(rule: PolicyRule, verb: string): boolean {
  return rule.verbs.some((candidate) => candidate === WILDCARD || candidate === verb);
}

function apiGroupMatches(rule: PolicyRule, apiGroup: string): boolean {
  return (rule.apiGroups ?? []).some((candidate) => candidate === WILDCARD || candidate === apiGroup);
}

// `*` matches every resource and subresource; `clusters` does not match `clusters/status`; `*/status` matches any status.
function resourceMatches(rule: PolicyRule, attributes: RequestAttributes): boolean {
  const combined = combinedResource(attributes);
  const subresource = attributes.subresource ?? "";
  return (rule.resources ?? []).some(
    (candidate) => candidate === WILDCARD || candidate === combined || (subresource !== "" && candidate === `*/${subresource}`),
  );
}

// A rule with resourceNames never matches a request without a name (list, watch, create), as in Kubernetes.
function resourceNameMatches(rule: PolicyRule, name: string | undefined): boolean {
  const names = rule.resourceNames ?? [];
  if (names.length === 0) return true;
  return name !== undefined && names.includes(name);
}
