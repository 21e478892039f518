/** Helpers for status conditions: set one, keeping lastTransitionTime when the status does not change. */
import { now, type Condition } from "../../api/index.ts";

/** A new conditions array with `condition` set (by type); lastTransitionTime moves only when status changes. */
export function setCondition(conditions: readonly Condition[] | undefined, condition: Omit<Condition, "lastTransitionTime">): Condition[] {
  const list = conditions ?? [];
  const previous = list.find((c) => c.type === condition.type);
  const lastTransitionTime = previous && previous.status === condition.status ? previous.lastTransitionTime : now();
  const next: Condition = { ...condition, lastTransitionTime };
  return previous ? list.map((c) => (c.type === condition.type ? next : c)) : [...list, next];
}

/** The condition of a type, if any. */
export function findCondition(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}
