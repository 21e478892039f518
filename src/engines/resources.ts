/** Reading the component resources engines size themselves from. */
import { parseQuantity, type ResourceRequirements } from "../api/index.ts";
import { InvalidError } from "../errors/index.ts";

/** `resources.limits.memory` in bytes, or undefined when no limit is set. */
export function memoryLimitBytes(resources: ResourceRequirements | undefined): number | undefined {
  const quantity = resources?.limits?.memory;
  if (quantity === undefined) return undefined;
  let bytes: number;
  try {
    bytes = parseQuantity(quantity);
  } catch (error) {
    throw new InvalidError(`memory limit ${String(quantity)} is not a quantity: use one such as 512Mi or 1Gi`, {
      cause: error,
      causes: [{ field: "resources.limits.memory", message: "must be a quantity such as 512Mi or 1Gi" }],
    });
  }
  return bytes > 0 ? Math.floor(bytes) : undefined;
}
