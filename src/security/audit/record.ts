/** The audit record: Kubernetes audit.k8s.io/v1 Event fields, Holdfast's annotations, and the hash-chain fields. */
import { z } from "zod";

/** How much of a request is recorded: Metadata (who, what, outcome) or Request (also the redacted body). */
export const auditLevelSchema = z.enum(["Metadata", "Request"]);
/** See {@link auditLevelSchema}. */
export type AuditLevel = z.infer<typeof auditLevelSchema>;

const HEX_64 = /^[0-9a-f]{64}$/;

/** The object a request acted on, as Kubernetes' ObjectReference in audit events. */
export const auditObjectRefSchema = z.object({
  resource: z.string(),
  namespace: z.string().optional(),
  name: z.string().optional(),
  apiGroup: z.string().optional(),
  apiVersion: z.string().optional(),
  subresource: z.string().optional(),
});

/** Kubernetes audit stages Holdfast records. */
export const auditStageSchema = z.enum(["RequestReceived", "ResponseComplete"]);

/** The outcome of a login attempt (password, TOTP, recovery code, token). */
export const auditAuthenticationSchema = z.object({
  outcome: z.enum(["success", "failure"]),
  /** e.g. `password`, `totp`, `recoveryCode`, `token`, `session`. */
  method: z.string(),
  /** Why it failed, for operators; never the submitted secret. */
  reason: z.string().optional(),
});

/** The authorization decision recorded with the event. */
export const auditAnnotationsSchema = z.object({
  "authorization.k8s.io/decision": z.enum(["allow", "forbid"]),
  "authorization.k8s.io/reason": z.string(),
  /** Set on a dry-run request (`dryRun=All`): it was admitted, but nothing was changed. */
  "holdfast.io/dry-run": z.literal("All").optional(),
  /** The other user a request acted for (an API token created for them). */
  "holdfast.io/acting-for": z.string().optional(),
});

/** The fields of an event that callers supply (the writer adds ids, timestamps, level and the chain). */
const eventFields = {
  verb: z.string(),
  user: z.object({ username: z.string(), groups: z.array(z.string()) }),
  sourceIPs: z.array(z.string()),
  userAgent: z.string(),
  objectRef: auditObjectRefSchema.optional(),
  /** The path of a request for a non-resource URL (`/metrics`), which has no objectRef, as in Kubernetes. */
  requestURI: z.string().optional(),
  responseStatus: z.object({ code: z.number().int(), reason: z.string().optional(), message: z.string().optional() }),
  requestReceivedTimestamp: z.string(),
  annotations: auditAnnotationsSchema.optional(),
  authentication: auditAuthenticationSchema.optional(),
};

/** One stored audit event: an audit.k8s.io/v1 Event at stage ResponseComplete, chained to the record before it. */
export const auditEventRecordSchema = z.strictObject({
  type: z.literal("event"),
  kind: z.literal("Event"),
  apiVersion: z.literal("audit.k8s.io/v1"),
  auditID: z.uuid(),
  /** RequestReceived: a write about to happen (recorded first, so an unwritable log stops it); ResponseComplete: the outcome. */
  stage: auditStageSchema,
  level: auditLevelSchema,
  ...eventFields,
  stageTimestamp: z.string(),
  /** Present only at level Request, always redacted. */
  requestObject: z.unknown().optional(),
  seq: z.number().int().positive(),
  prevHash: z.string().regex(HEX_64),
  hash: z.string().regex(HEX_64),
});
/** See {@link auditEventRecordSchema}. */
export type AuditEventRecord = z.infer<typeof auditEventRecordSchema>;

/** A signed checkpoint: an Ed25519 signature over `seq|coversSeq|chainHash`, itself a link of the chain. */
export const auditCheckpointRecordSchema = z.strictObject({
  type: z.literal("checkpoint"),
  seq: z.number().int().positive(),
  /** The seq of the record just before this checkpoint. */
  coversSeq: z.number().int().nonnegative(),
  /** The hash of record `coversSeq` (the genesis hash when the log was empty). */
  chainHash: z.string().regex(HEX_64),
  /** base64 Ed25519 signature. */
  signature: z.string(),
  /** First 16 hex digits of the SHA-256 of the public key (SPKI DER). */
  keyId: z.string(),
  timestamp: z.string(),
  prevHash: z.string().regex(HEX_64),
  hash: z.string().regex(HEX_64),
});
/** See {@link auditCheckpointRecordSchema}. */
export type AuditCheckpointRecord = z.infer<typeof auditCheckpointRecordSchema>;

/** Any line of `audit.log`. */
export const auditRecordSchema = z.discriminatedUnion("type", [auditEventRecordSchema, auditCheckpointRecordSchema]);
/** See {@link auditRecordSchema}. */
export type AuditRecord = z.infer<typeof auditRecordSchema>;

/** What the API server hands to `AuditLog.append`. */
export const auditEventInputSchema = z.object({
  ...eventFields,
  /** Generated when absent. */
  auditID: z.uuid().optional(),
  /** Taken from the policy when absent; a request for more than the policy allows is lowered to it. */
  level: auditLevelSchema.optional(),
  /** Set to the time of append when absent. */
  stageTimestamp: z.string().optional(),
  /** Defaults to ResponseComplete. */
  stage: auditStageSchema.optional(),
  /** Redacted by the writer and kept only at level Request. */
  requestObject: z.unknown().optional(),
});
/** See {@link auditEventInputSchema}. */
export type AuditEventInput = z.input<typeof auditEventInputSchema>;
