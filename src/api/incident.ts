/**
 * Holdfast's detection kinds (holdfast.io/v1), all in namespace `holdfast-system`: Incident (what a detection rule
 * found, its evidence, state and timeline), NotificationChannel (where incidents are announced), and two kinds the
 * control plane alone writes: SecuritySignal (audit events of interest, forwarded by each node to the leader) and
 * DetectionState (the leader's counters and baselines, so a new leader carries on where the last one stopped).
 */
import { z } from "zod";
import { metadataSchema } from "./common.ts";

/** The API version of the detection kinds. */
export const DETECTION_API_VERSION = "holdfast.io/v1";
/** Where incidents, channels and detection state live. */
export const DETECTION_NAMESPACE = "holdfast-system";

/** How bad a finding is, lowest first. */
export const SEVERITIES = ["low", "medium", "high", "critical"] as const;
/** See {@link SEVERITIES}. */
export const severitySchema = z.enum(SEVERITIES);
/** See {@link SEVERITIES}. */
export type Severity = z.infer<typeof severitySchema>;

/** An incident's state: Open → Acknowledged → Contained → Resolved. */
export const incidentStateSchema = z.enum(["Open", "Acknowledged", "Contained", "Resolved"]);
/** See {@link incidentStateSchema}. */
export type IncidentState = z.infer<typeof incidentStateSchema>;

/** One entry of an incident's timeline: who did what, when. */
export const timelineEntrySchema = z.object({
  time: z.string(),
  /** `holdfast` for the detector and the notifier, else the user who acted. */
  actor: z.string(),
  /** e.g. Opened, Fired, Acknowledged, Contained, Resolved, Notified, NotificationFailed. */
  action: z.string(),
  message: z.string(),
});
/** See {@link timelineEntrySchema}. */
export type TimelineEntry = z.infer<typeof timelineEntrySchema>;

/** One attempt to deliver a notification. */
export const deliveryAttemptSchema = z.object({
  channel: z.string(),
  /** The `webhook-id` sent: the same for every attempt of one message. */
  messageId: z.string(),
  attempt: z.int().min(1),
  time: z.string(),
  /** HTTP status of the answer, absent when none came. */
  statusCode: z.int().optional(),
  outcome: z.enum(["Delivered", "Failed"]),
  message: z.string().optional(),
});
/** See {@link deliveryAttemptSchema}. */
export type DeliveryAttempt = z.infer<typeof deliveryAttemptSchema>;

/** An object an incident is about. */
export const affectedObjectSchema = z.object({
  kind: z.string(),
  name: z.string(),
  namespace: z.string().optional(),
});

/** Incident.spec: what was found. Written by the detector; users change an incident only through its actions. */
export const incidentSpecSchema = z.object({
  rule: z.string(),
  severity: severitySchema,
  /** What the rule found about (an account, an address, a user and a namespace…): repeated firings update one incident. */
  subject: z.string(),
  summary: z.string(),
});

/** Incident.status: evidence, affected users and objects, state, timeline, deliveries. */
export const incidentStatusSchema = z.object({
  state: incidentStateSchema,
  /** How many times the rule fired for this subject while the incident was open. */
  firings: z.int().min(1),
  firstSeen: z.string(),
  lastSeen: z.string(),
  evidence: z.object({
    auditIDs: z.array(z.string()),
    /** Numbers the rule measured (counts in a window, the baseline it compared with). */
    samples: z.array(z.object({ name: z.string(), value: z.number(), time: z.string() })),
  }),
  affectedUsers: z.array(z.string()),
  affectedObjects: z.array(affectedObjectSchema),
  sourceAddresses: z.array(z.string()),
  timeline: z.array(timelineEntrySchema),
  notifications: z.array(deliveryAttemptSchema),
});
/** See {@link incidentStatusSchema}. */
export type IncidentStatus = z.infer<typeof incidentStatusSchema>;

/** Incident (holdfast.io/v1). */
export const incidentSchema = z.object({
  apiVersion: z.literal(DETECTION_API_VERSION),
  kind: z.literal("Incident"),
  metadata: metadataSchema,
  spec: incidentSpecSchema,
  status: incidentStatusSchema.optional(),
});
/** See {@link incidentSchema}. */
export type Incident = z.infer<typeof incidentSchema>;

/** NotificationChannel (holdfast.io/v1): a webhook signed as Standard Webhooks does, with a severity filter. */
export const notificationChannelSchema = z.object({
  apiVersion: z.literal(DETECTION_API_VERSION),
  kind: z.literal("NotificationChannel"),
  metadata: metadataSchema,
  spec: z.strictObject({
    webhook: z.strictObject({
      /** https, or http only to a loopback address (for tests and local relays). */
      url: z.string(),
      /** The signing secret: a Secret in holdfast-system and its key (`whsec_<base64>` or any string). */
      secretRef: z.strictObject({ name: z.string(), key: z.string().default("secret") }),
    }),
    /** Incidents of this severity or worse are sent (default: low, i.e. all). */
    minSeverity: severitySchema.default("low"),
    /** Delivery attempts per message (default 5), with exponential backoff from 1 s. */
    maxAttempts: z.int().min(1).max(10).default(5),
  }),
});
/** See {@link notificationChannelSchema}. */
export type NotificationChannel = z.infer<typeof notificationChannelSchema>;

/** The part of an audit event the detection rules read, forwarded by the node that recorded it. */
export const signalEventSchema = z.object({
  auditID: z.string(),
  time: z.string(),
  node: z.string(),
  username: z.string(),
  groups: z.array(z.string()),
  sourceIP: z.string(),
  verb: z.string(),
  resource: z.string().optional(),
  apiGroup: z.string().optional(),
  namespace: z.string().optional(),
  name: z.string().optional(),
  subresource: z.string().optional(),
  code: z.int(),
  decision: z.enum(["allow", "forbid"]).optional(),
  authentication: z.object({ outcome: z.enum(["success", "failure"]), method: z.string(), reason: z.string().optional() }).optional(),
  /** Set on events the audit log itself raises: its writes fail, or its file was cut or replaced. */
  auditProblem: z.enum(["write-failed", "tampered"]).optional(),
  /** The other user a request acted for (an API token created for them). */
  actingFor: z.string().optional(),
});
/** See {@link signalEventSchema}. */
export type SignalEvent = z.infer<typeof signalEventSchema>;

/** SecuritySignal (holdfast.io/v1): a batch of signal events from one node, removed once the leader has read it. */
export const securitySignalSchema = z.object({
  apiVersion: z.literal(DETECTION_API_VERSION),
  kind: z.literal("SecuritySignal"),
  metadata: metadataSchema,
  spec: z.object({ node: z.string(), events: z.array(signalEventSchema) }),
});
/** See {@link securitySignalSchema}. */
export type SecuritySignal = z.infer<typeof securitySignalSchema>;

/** DetectionState (holdfast.io/v1): the rules' windows and baselines, one object kept by the leader. */
export const detectionStateSchema = z.object({
  apiVersion: z.literal(DETECTION_API_VERSION),
  kind: z.literal("DetectionState"),
  metadata: metadataSchema,
  spec: z.object({ state: z.record(z.string(), z.unknown()) }),
});
/** See {@link detectionStateSchema}. */
export type DetectionState = z.infer<typeof detectionStateSchema>;
