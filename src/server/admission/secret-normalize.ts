/** Secret writes: `stringData` folds into `data`, and an immutable Secret keeps its data. */
import { isDeepStrictEqual } from "node:util";
import type { Resource } from "../../api/index.ts";
import type { FieldCause } from "../../errors/index.ts";

/** Fold `stringData` into base64 `data` (stringData wins on the same key, as in Kubernetes) and drop it. */
export function foldStringData(secret: Resource): Resource {
  const stringData = secret["stringData"] as Record<string, string> | undefined;
  if (stringData === undefined) return secret;
  const data = { ...(secret["data"] as Record<string, string> | undefined) };
  for (const [key, value] of Object.entries(stringData)) data[key] = Buffer.from(value, "utf8").toString("base64");
  const { stringData: _dropped, ...rest } = secret;
  return { ...rest, data };
}

/** Causes when an immutable Secret's data, type or immutability would change. */
export function immutableSecretCauses(secret: Resource, old: Resource | undefined): FieldCause[] {
  if (old?.["immutable"] !== true) return [];
  const causes: FieldCause[] = [];
  for (const field of ["data", "type", "immutable"]) {
    if (!isDeepStrictEqual(secret[field], old[field])) {
      causes.push({ field, reason: "FieldValueForbidden", message: "Forbidden: field is immutable when `immutable` is set; delete and recreate the Secret" });
    }
  }
  return causes;
}
