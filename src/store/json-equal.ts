/**
 * Equality of JSON values as their JSON text would compare with object keys sorted, without building that text: the
 * store asks it of every update (did the spec change? did anything change?), so it must cost a walk, not a
 * stringify with a sorting replacer. Object fields holding `undefined` count as absent, as JSON.stringify drops them.
 */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== "object" || typeof b !== "object") return false;
  if (Array.isArray(a) || Array.isArray(b)) return Array.isArray(a) && Array.isArray(b) && arraysEqual(a, b);
  return objectsEqual(a as Record<string, unknown>, b as Record<string, unknown>);
}

function arraysEqual(a: unknown[], b: unknown[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    // JSON writes an undefined array element as null.
    if (!jsonEqual(a[i] ?? null, b[i] ?? null)) return false;
  }
  return true;
}

function objectsEqual(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  let fields = 0;
  for (const key of Object.keys(a)) {
    const value = a[key];
    if (value === undefined) continue;
    fields += 1;
    if (!Object.hasOwn(b, key) || !jsonEqual(value, b[key])) return false;
  }
  return fields === definedFields(b);
}

function definedFields(object: Record<string, unknown>): number {
  let count = 0;
  for (const key of Object.keys(object)) if (object[key] !== undefined) count += 1;
  return count;
}
