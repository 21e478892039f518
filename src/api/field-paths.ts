/** Reading fields of objects by dotted path, without trusting their shape (tables, printer columns). */

/** The value at a dotted path (`status.phase`), or undefined. */
export function pickField(value: unknown, path: string): unknown {
  let current = value;
  for (const key of path.split(".")) {
    if (typeof current !== "object" || current === null) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

/** A field rendered for a table cell: strings as they are, numbers and booleans printed, else `fallback`. */
export function fieldText(value: unknown, path: string, fallback = ""): string {
  const found = pickField(value, path);
  if (typeof found === "string") return found === "" ? fallback : found;
  if (typeof found === "number" || typeof found === "boolean") return String(found);
  return fallback;
}

/** An array field, or []. */
export function fieldList(value: unknown, path: string): unknown[] {
  const found = pickField(value, path);
  return Array.isArray(found) ? (found as unknown[]) : [];
}

/** An object field as a record, or {}. */
export function fieldRecord(value: unknown, path: string): Record<string, unknown> {
  const found = pickField(value, path);
  return typeof found === "object" && found !== null && !Array.isArray(found) ? (found as Record<string, unknown>) : {};
}
