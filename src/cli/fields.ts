/** Reading fields of objects whose shape the server owns, without trusting it blindly. */

/** The value at a dotted path (`status.phase`), or undefined. */
export function pick(value: unknown, path: string): unknown {
  let current = value;
  for (const key of path.split(".")) {
    if (typeof current !== "object" || current === null) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

/** A field rendered for a table cell: strings as they are, numbers and booleans printed, else `fallback`. */
export function text(value: unknown, path: string, fallback = ""): string {
  const found = pick(value, path);
  if (typeof found === "string") return found === "" ? fallback : found;
  if (typeof found === "number" || typeof found === "boolean") return String(found);
  return fallback;
}

/** An array field, or []. */
export function list(value: unknown, path: string): unknown[] {
  const found = pick(value, path);
  return Array.isArray(found) ? (found as unknown[]) : [];
}

/** An object field as a record, or {}. */
export function record(value: unknown, path: string): Record<string, unknown> {
  const found = pick(value, path);
  return typeof found === "object" && found !== null && !Array.isArray(found) ? (found as Record<string, unknown>) : {};
}
