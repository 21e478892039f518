/**
 * PrometheusRule objects as one Prometheus rule file (pure): every group of every object, its name prefixed with the
 * object's namespace and name so groups of different objects never clash.
 */
import { stringify } from "yaml";
import type { PrometheusRule } from "../api/index.ts";

/** The rule file (YAML) holding every group of `rules`, in namespace and name order. */
export function ruleFile(rules: readonly PrometheusRule[]): string {
  const sorted = [...rules].sort((a, b) => keyOf(a).localeCompare(keyOf(b)));
  const groups = sorted.flatMap((object) =>
    object.spec.groups.map((group) => ({
      name: `${keyOf(object)}/${group.name}`,
      ...(group.interval === undefined ? {} : { interval: group.interval }),
      ...(group.limit === undefined ? {} : { limit: group.limit }),
      rules: group.rules.map((rule) => ({ ...rule, expr: String(rule.expr) })),
    })),
  );
  return stringify({ groups }, { lineWidth: 0, aliasDuplicateObjects: false });
}

function keyOf(object: PrometheusRule): string {
  return `${object.metadata.namespace ?? "default"}/${object.metadata.name}`;
}
