/** What a detection rule is, and what it returns when it fires. */
import type { Severity, SignalEvent } from "../api/index.ts";
import type { DetectionSettings } from "./settings.ts";
import type { DetectorState } from "./state.ts";

/** What a rule found: one firing, about one subject. */
export interface Finding {
  rule: string;
  severity: Severity;
  /** What the finding is about; with the rule it names the incident repeated firings update. */
  subject: string;
  summary: string;
  auditIDs: string[];
  users: string[];
  sourceAddresses: string[];
  objects: { kind: string; name: string; namespace?: string }[];
  samples: { name: string; value: number }[];
  time: string;
}

/** A rule: its id, what it looks for, how bad it is, and how it reads an event. */
export interface DetectionRule {
  id: string;
  description: string;
  severity: Severity;
  evaluate(event: SignalEvent, state: DetectorState, settings: DetectionSettings): Finding[];
}

/** A finding about `subject` with `event` as its evidence; rules add what else they know. */
export function findingOf(rule: DetectionRule, event: SignalEvent, subject: string, summary: string): Finding {
  return {
    rule: rule.id,
    severity: rule.severity,
    subject,
    summary,
    auditIDs: [event.auditID],
    users: event.username.startsWith("system:") ? [] : [event.username],
    sourceAddresses: [event.sourceIP],
    objects: [],
    samples: [],
    time: event.time,
  };
}

