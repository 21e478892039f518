/**
 * Findings become incidents: the first firing of a rule for a subject opens one; later firings while it is not
 * Resolved update it (evidence, firings, last seen) rather than opening another.
 */
import { createHash, randomBytes } from "node:crypto";
import { DETECTION_API_VERSION, DETECTION_NAMESPACE, type Incident, type IncidentStatus } from "../api/index.ts";
import type { Store } from "../store/index.ts";
import type { Finding } from "./finding.ts";
import { changeIncidentStatus, timelineEntry } from "./incident-status.ts";

/** Labels that find the open incident of a rule and subject. */
export const RULE_LABEL = "holdfast.io/rule";
export const SUBJECT_LABEL = "holdfast.io/subject-hash";

/** What happened to a finding: a new incident (to be announced) or an update of an open one. */
export interface Booked {
  incident: Incident;
  opened: boolean;
}

/** A short stable hash of a subject, usable as a label value. */
export function subjectHash(subject: string): string {
  return createHash("sha256").update(subject).digest("hex").slice(0, 16);
}

/** Union of two lists, newest last, at most `cap` long. */
function merged(old: readonly string[], added: readonly string[], cap: number): string[] {
  const all = [...new Set([...old, ...added])];
  return all.length > cap ? all.slice(all.length - cap) : all;
}

/** The status of an incident after one more firing. */
export function withFiring(status: IncidentStatus, finding: Finding, maxEvidence: number): IncidentStatus {
  const objects = [...status.affectedObjects];
  for (const object of finding.objects) {
    if (!objects.some((o) => o.kind === object.kind && o.name === object.name && o.namespace === object.namespace)) objects.push(object);
  }
  return {
    ...status,
    firings: status.firings + 1,
    lastSeen: finding.time,
    evidence: {
      auditIDs: merged(status.evidence.auditIDs, finding.auditIDs, maxEvidence),
      samples: [...status.evidence.samples, ...finding.samples.map((s) => ({ ...s, time: finding.time }))].slice(-50),
    },
    affectedUsers: merged(status.affectedUsers, finding.users, 100),
    affectedObjects: objects.slice(-100),
    sourceAddresses: merged(status.sourceAddresses, finding.sourceAddresses, 100),
  };
}

/** The status of a new incident. */
export function openedStatus(finding: Finding, maxEvidence: number): IncidentStatus {
  const empty: IncidentStatus = {
    state: "Open",
    firings: 0,
    firstSeen: finding.time,
    lastSeen: finding.time,
    evidence: { auditIDs: [], samples: [] },
    affectedUsers: [],
    affectedObjects: [],
    sourceAddresses: [],
    timeline: [timelineEntry("holdfast", "Opened", `${finding.rule}: ${finding.summary}`)],
    notifications: [],
  };
  return withFiring(empty, finding, maxEvidence);
}

function incidentName(finding: Finding): string {
  const stamp = finding.time.replace(/[-:TZ.]/g, "").slice(0, 14);
  return `${finding.rule}-${stamp}-${randomBytes(2).toString("hex")}`;
}

/** Record a finding in the store: update the open incident of its rule and subject, or open one. */
export async function bookFinding(store: Store, finding: Finding, maxEvidence: number): Promise<Booked> {
  const hash = subjectHash(finding.subject);
  const list = await store.list<Incident>("Incident", { namespace: DETECTION_NAMESPACE, labelSelector: `${RULE_LABEL}=${finding.rule},${SUBJECT_LABEL}=${hash}` });
  const open = list.items.find((incident) => incident.status?.state !== "Resolved");
  if (open !== undefined) {
    const incident = await changeIncidentStatus(store, open.metadata.name, (status) => {
      Object.assign(status, withFiring(status, finding, maxEvidence));
    });
    return { incident, opened: false };
  }
  const status = openedStatus(finding, maxEvidence);
  const created = await store.create<Incident>({
    apiVersion: DETECTION_API_VERSION,
    kind: "Incident",
    metadata: { name: incidentName(finding), namespace: DETECTION_NAMESPACE, labels: { [RULE_LABEL]: finding.rule, [SUBJECT_LABEL]: hash } },
    spec: { rule: finding.rule, severity: finding.severity, subject: finding.subject, summary: finding.summary },
    status,
  });
  // A store that takes no status on create gets it as a status write.
  const incident = created.status === undefined ? await store.updateStatus<Incident>({ ...created, status }) : created;
  return { incident, opened: true };
}
