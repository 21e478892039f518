/** Read-modify-write of an Incident's status, retried on conflicts: the detector, the notifier and users all change it. */
import { DETECTION_NAMESPACE, type Incident, type IncidentStatus, type TimelineEntry } from "../api/index.ts";
import { ConflictError, NotFoundError } from "../errors/index.ts";
import type { Store } from "../store/index.ts";

const ATTEMPTS = 10;
/** Timeline entries kept per incident (the oldest, with the opening, first). */
const MAX_TIMELINE = 500;

/** Apply `change` to the latest status of incident `name` and store it; retried when someone else wrote meanwhile. */
export async function changeIncidentStatus(store: Store, name: string, change: (status: IncidentStatus, incident: Incident) => void): Promise<Incident> {
  for (let attempt = 1; ; attempt += 1) {
    const incident = await store.get<Incident>({ kind: "Incident", namespace: DETECTION_NAMESPACE, name });
    if (incident?.status === undefined) throw new NotFoundError(`incident ${name} not found in ${DETECTION_NAMESPACE}; list them with holdfast incident list`, { subject: { kind: "Incident", group: "holdfast.io", name } });
    const status = structuredClone(incident.status);
    change(status, incident);
    if (status.timeline.length > MAX_TIMELINE) status.timeline = [...status.timeline.slice(0, 1), ...status.timeline.slice(-(MAX_TIMELINE - 1))];
    try {
      return await store.updateStatus({ ...incident, status });
    } catch (error) {
      if (!(error instanceof ConflictError) || attempt >= ATTEMPTS) throw error;
    }
  }
}

/** A timeline entry at the current time. */
export function timelineEntry(actor: string, action: string, message: string): TimelineEntry {
  return { time: new Date().toISOString(), actor, action, message };
}
