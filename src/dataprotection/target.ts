/** Which instance a backup is taken from: the policy's pod selector, with roles read from the instances (pure). */
import { ROLE_LABEL, type Instance, type LabelSelector, type PodSelector } from "../api/index.ts";

/** The labels an instance is selected by: its own, plus its current role under KubeBlocks' role label. */
export function selectableLabels(instance: Instance): Record<string, string> {
  const role = instance.status?.role ?? instance.spec.role;
  return { ...instance.metadata.labels, ...(role === undefined ? {} : { [ROLE_LABEL]: role }) };
}

/** Does a label selector match these labels? */
export function selectorMatches(selector: LabelSelector, labels: Readonly<Record<string, string>>): boolean {
  const byLabel = Object.entries(selector.matchLabels ?? {}).every(([key, value]) => labels[key] === value);
  return byLabel && (selector.matchExpressions ?? []).every((requirement) => {
    const value = labels[requirement.key];
    const values = requirement.values ?? [];
    switch (requirement.operator) {
      case "In": return value !== undefined && values.includes(value);
      case "NotIn": return value === undefined || !values.includes(value);
      case "Exists": return value !== undefined;
      case "DoesNotExist": return value === undefined;
    }
  });
}

/**
 * The instance to back up: a ready one the selector matches (lowest ordinal first), else one the fallback selector
 * matches. Undefined when none is ready.
 */
export function selectTargetInstance(selector: PodSelector, instances: readonly Instance[]): Instance | undefined {
  const ready = instances
    .filter((instance) => instance.status?.ready === true && instance.metadata.deletionTimestamp === undefined)
    .sort((a, b) => a.spec.ordinal - b.spec.ordinal);
  const pick = (candidate: LabelSelector | undefined): Instance | undefined =>
    candidate === undefined ? undefined : ready.find((instance) => selectorMatches(candidate, selectableLabels(instance)));
  return pick(selector) ?? pick(selector.fallbackLabelSelector);
}
