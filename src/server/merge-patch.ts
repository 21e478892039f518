/** JSON Merge Patch (RFC 7386). */

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Apply a merge patch to a target, returning a new value (the target is not modified):
 * objects merge key by key, `null` removes a key, anything else (arrays included) replaces.
 */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return structuredClone(patch);
  const base = isObject(target) ? target : {};
  const entries: [string, unknown][] = [];
  for (const [key, value] of Object.entries(base)) {
    if (!Object.hasOwn(patch, key)) entries.push([key, value]);
    else if (patch[key] !== null) entries.push([key, applyMergePatch(value, patch[key])]);
  }
  for (const [key, value] of Object.entries(patch)) {
    if (!Object.hasOwn(base, key) && value !== null) entries.push([key, applyMergePatch(undefined, value)]);
  }
  // fromEntries defines own properties, so a `__proto__` key stays data instead of changing the prototype.
  return Object.fromEntries(entries);
}
