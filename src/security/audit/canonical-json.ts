/** Canonical JSON: object keys sorted, no whitespace, so the same record always hashes the same. */

/** Serialize a JSON value with sorted keys; `undefined` members are left out, as JSON.stringify does. */
export function canonicalJson(value: unknown): string {
  if (typeof value !== "object" || value === null) {
    // JSON has no undefined; a lone undefined (not a member) is written as null, like an array element.
    return value === undefined ? "null" : JSON.stringify(value);
  }
  if (Array.isArray(value)) return canonicalArray(value);
  const object = value as Record<string, unknown>;
  // Default sort compares UTF-16 code units: the same order on every platform.
  const keys = Object.keys(object).sort();
  let out = "{";
  for (const key of keys) {
    const member = object[key];
    if (member === undefined) continue;
    if (out.length > 1) out += ",";
    out += `${JSON.stringify(key)}:${canonicalJson(member)}`;
  }
  return `${out}}`;
}

function canonicalArray(items: readonly unknown[]): string {
  let out = "[";
  for (let i = 0; i < items.length; i++) {
    if (i > 0) out += ",";
    out += canonicalJson(items[i]);
  }
  return `${out}]`;
}
