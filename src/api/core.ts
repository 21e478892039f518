/** Core kinds (v1): Namespace, Secret, Event. */
import { z } from "zod";
import { dns1123LabelSchema, metadataSchema } from "./common.ts";

export const namespaceSchema = z.object({
  apiVersion: z.literal("v1"),
  kind: z.literal("Namespace"),
  metadata: metadataSchema.extend({ name: dns1123LabelSchema }),
  spec: z.looseObject({}).optional(),
  status: z.object({ phase: z.enum(["Active", "Terminating"]) }).optional(),
});

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Secret: `data` values are base64; `stringData` is folded into `data` on write. */
export const secretSchema = z.object({
  apiVersion: z.literal("v1"),
  kind: z.literal("Secret"),
  metadata: metadataSchema,
  type: z.string().default("Opaque"),
  immutable: z.boolean().optional(),
  data: z.record(z.string(), z.string().regex(BASE64, "must be base64")).optional(),
  stringData: z.record(z.string(), z.string()).optional(),
});

export const objectReferenceSchema = z.object({
  apiVersion: z.string().optional(),
  kind: z.string(),
  namespace: z.string().optional(),
  name: z.string(),
  uid: z.string().optional(),
});

/** Event, as `kubectl get events` shows it; count and lastTimestamp grow when the same event repeats. */
export const eventSchema = z.object({
  apiVersion: z.literal("v1"),
  kind: z.literal("Event"),
  metadata: metadataSchema,
  involvedObject: objectReferenceSchema,
  reason: z.string(),
  message: z.string(),
  type: z.enum(["Normal", "Warning"]),
  count: z.int().min(1),
  firstTimestamp: z.string(),
  lastTimestamp: z.string(),
  source: z.object({ component: z.string() }).optional(),
});

export type Namespace = z.infer<typeof namespaceSchema>;
export type Secret = z.infer<typeof secretSchema>;
export type ObjectReference = z.infer<typeof objectReferenceSchema>;
export type Event = z.infer<typeof eventSchema>;
