/**
 * Whether a set of rules covers another: Kubernetes' escalation comparison. A rule is broken down into atomic
 * rules (one group, resource, verb and resourceName each); every atomic rule must be covered by one owner rule.
 */
import type { PolicyRule } from "../../api/index.ts";
import { nonResourceURLMatches, WILDCARD } from "./rule-match.ts";

/** The atomic rules of `servant` that no rule of `owner` covers; empty when `owner` covers all of `servant`. */
export function uncoveredRules(owner: readonly PolicyRule[], servant: readonly PolicyRule[]): PolicyRule[] {
  return servant.flatMap(breakdownRule).filter((atomic) => !owner.some((rule) => ruleCovers(rule, atomic)));
}

/**
 * One rule per (apiGroup, resource, verb, resourceName), rules without resourceNames keeping none; and one per
 * (non-resource URL, verb).
 */
export function breakdownRule(rule: PolicyRule): PolicyRule[] {
  const names = rule.resourceNames ?? [];
  const atomic: PolicyRule[] = (rule.nonResourceURLs ?? []).flatMap((url) => rule.verbs.map((verb) => ({ verbs: [verb], nonResourceURLs: [url] })));
  for (const apiGroup of rule.apiGroups ?? []) {
    for (const resource of rule.resources ?? []) {
      for (const verb of rule.verbs) {
        if (names.length === 0) atomic.push({ apiGroups: [apiGroup], resources: [resource], verbs: [verb] });
        for (const name of names) atomic.push({ apiGroups: [apiGroup], resources: [resource], verbs: [verb], resourceNames: [name] });
      }
    }
  }
  return atomic;
}

/** Whether `owner` allows everything `sub` allows. A wildcard in `sub` is covered only by the same wildcard. */
export function ruleCovers(owner: PolicyRule, sub: PolicyRule): boolean {
  if ((sub.nonResourceURLs ?? []).length > 0) return nonResourceRuleCovers(owner, sub);
  return (
    coversAll(owner.verbs, sub.verbs) &&
    coversAll(owner.apiGroups ?? [], sub.apiGroups ?? []) &&
    resourcesCoverAll(owner.resources ?? [], sub.resources ?? []) &&
    resourceNamesCover(owner.resourceNames ?? [], sub.resourceNames ?? [])
  );
}

// `/metrics` is covered by itself, `/*` or `*`, as Kubernetes compares non-resource URLs.
function nonResourceRuleCovers(owner: PolicyRule, sub: PolicyRule): boolean {
  return coversAll(owner.verbs, sub.verbs) && (sub.nonResourceURLs ?? []).every((url) => nonResourceURLMatches(owner.nonResourceURLs ?? [], url));
}

function coversAll(owner: readonly string[], wanted: readonly string[]): boolean {
  return owner.includes(WILDCARD) || wanted.every((value) => owner.includes(value));
}

// `clusters/status` is covered by itself, `*/status` or `*`; `*/status` only by itself or `*`.
function resourcesCoverAll(owner: readonly string[], wanted: readonly string[]): boolean {
  if (owner.includes(WILDCARD)) return true;
  return wanted.every((resource) => {
    if (owner.includes(resource)) return true;
    const slash = resource.indexOf("/");
    return slash !== -1 && owner.includes(`*${resource.slice(slash)}`);
  });
}

// A rule without resourceNames is broader than any rule with them.
function resourceNamesCover(owner: readonly string[], wanted: readonly string[]): boolean {
  if (owner.length === 0) return true;
  return wanted.length > 0 && wanted.every((name) => owner.includes(name));
}

/** A rule as Kubernetes prints it in escalation messages. */
export function describeRule(rule: PolicyRule): string {
  const list = (values: readonly string[] | undefined): string => `[${(values ?? []).map((value) => JSON.stringify(value)).join(" ")}]`;
  const names = (rule.resourceNames ?? []).length > 0 ? ` ResourceNames:${list(rule.resourceNames)}` : "";
  if ((rule.nonResourceURLs ?? []).length > 0) return `{NonResourceURLs:${list(rule.nonResourceURLs)} Verbs:${list(rule.verbs)}}`;
  return `{APIGroups:${list(rule.apiGroups)} Resources:${list(rule.resources)}${names} Verbs:${list(rule.verbs)}}`;
}
