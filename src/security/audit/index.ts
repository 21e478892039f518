/** The tamper-evident audit log: record shape, policy and redaction, the durable writer, verification and queries. */
export {
  auditCheckpointRecordSchema,
  auditEventInputSchema,
  auditEventRecordSchema,
  auditLevelSchema,
  auditRecordSchema,
  type AuditCheckpointRecord,
  type AuditEventInput,
  type AuditEventRecord,
  type AuditLevel,
  type AuditRecord,
} from "./record.ts";
export { auditLevelFor, isSecretBearing, SECURITY_API_GROUP } from "./policy.ts";
export { isSensitiveKey, keyedHmac, redact, REDACTED_PREFIX } from "./redact.ts";
export { AuditLog, type AuditLogOptions, type AuditObserver } from "./audit-log.ts";
export type { AuditListener } from "./listeners.ts";
export { LOG_FILE as AUDIT_LOG_FILE, type AuditFile, type AuditFileOpener } from "./log-file.ts";
export { auditPublicKeyFile } from "./keys.ts";
export { verifyAuditLog, type VerifyOptions, type VerifyResult } from "./verify.ts";
export { CLOCK_STEP_TOLERANCE_MS, readAuditRecords, readNewestAuditEvents, type AuditQuery, type NewestAuditEvents } from "./query.ts";
export { GENESIS_HASH } from "./chain.ts";
