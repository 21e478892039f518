/** Security detection over the audit stream: signal feeds on every node, rules and incidents on the leader, notifications. */
export { defaultDetectionSettings, detectionSettingsSchema, loadDetectionSettings, type DetectionSettings } from "./settings.ts";
export { DETECTION_RULES, evaluateRules } from "./rules.ts";
export type { DetectionRule, Finding } from "./finding.ts";
export { emptyState, type DetectorState } from "./state.ts";
export { SignalFeed, type SignalFeedOptions } from "./signal-feed.ts";
export { SignalFilter } from "./signal-source.ts";
export { createDetector, type DetectorOptions } from "./detector.ts";
export { bookFinding, RULE_LABEL, SUBJECT_LABEL } from "./incident-book.ts";
export { changeIncidentStatus, timelineEntry } from "./incident-status.ts";
export { Notifier, channelAccepts, notificationBody } from "./notifier.ts";
export { assertWebhookUrl, signingKeyOf, signWebhook, verifyWebhook, webhookUrlProblem } from "./webhook.ts";
