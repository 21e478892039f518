/** Schemas shared by every kind: metadata, conditions, quantities, names. */
import { z } from "zod";

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** A DNS-1123 label: what Kubernetes requires of namespace names and what instance names are built from. */
export const dns1123LabelSchema = z
  .string()
  .max(63, "must be no more than 63 characters")
  .regex(DNS1123_LABEL, "must be a DNS-1123 label: lower case letters, digits and '-', starting and ending with a letter or digit");

/** A DNS-1123 subdomain: what most object names must be. */
export const dns1123SubdomainSchema = z
  .string()
  .max(253, "must be no more than 253 characters")
  .regex(DNS1123_SUBDOMAIN, "must be a DNS-1123 subdomain: lower case letters, digits, '-' and '.', starting and ending with a letter or digit");

/** A Kubernetes quantity such as `0.5`, `500m`, `512Mi`, `0.5Gi`, `20Gi`. */
export const quantitySchema = z.union([
  z.number().nonnegative(),
  z.string().regex(/^[0-9]+(\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/, "must be a quantity such as 500m, 0.5, 512Mi or 1Gi"),
]);

export const ownerReferenceSchema = z.object({
  apiVersion: z.string(),
  kind: z.string(),
  name: z.string(),
  uid: z.string(),
  controller: z.boolean().optional(),
  blockOwnerDeletion: z.boolean().optional(),
});

/** ObjectMeta as accepted from users; server-owned fields are overwritten by the store. */
export const metadataSchema = z.looseObject({
  name: dns1123SubdomainSchema,
  namespace: dns1123LabelSchema.optional(),
  uid: z.string().optional(),
  resourceVersion: z.string().optional(),
  generation: z.int().optional(),
  creationTimestamp: z.string().optional(),
  deletionTimestamp: z.string().optional(),
  finalizers: z.array(z.string()).optional(),
  ownerReferences: z.array(ownerReferenceSchema).optional(),
  labels: z.record(z.string(), z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
  // ObjectMeta's other fields, so they are not taken for unknown ones; the store owns or ignores them.
  generateName: z.string().optional(),
  selfLink: z.string().optional(),
  deletionGracePeriodSeconds: z.int().optional(),
  managedFields: z.array(z.unknown()).optional(),
});

export const conditionSchema = z.object({
  type: z.string(),
  status: z.enum(["True", "False", "Unknown"]),
  reason: z.string(),
  message: z.string(),
  lastTransitionTime: z.string(),
  observedGeneration: z.int().optional(),
});

const BINARY_SUFFIX: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const DECIMAL_SUFFIX: Record<string, number> = { m: 1e-3, "": 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };

/** The numeric value of a quantity (bytes for memory, cores for cpu). */
export function parseQuantity(quantity: string | number): number {
  if (typeof quantity === "number") return quantity;
  const match = /^([0-9]+(?:\.[0-9]+)?)([a-zA-Z]*)$/.exec(quantity);
  if (!match) throw new Error(`not a quantity: ${quantity}`);
  const value = Number(match[1]);
  const suffix = match[2] ?? "";
  const factor = BINARY_SUFFIX[suffix] ?? DECIMAL_SUFFIX[suffix];
  if (factor === undefined) throw new Error(`not a quantity: ${quantity}`);
  return value * factor;
}
