/**
 * What the node agent reports of an arbiter it runs (Instance.status.arbiterState) and of the request the ha controller
 * made of it (status.arbiterRequest), and when a report is worth a write, without I/O: a change of what the arbiter
 * says at once, otherwise a refresh every ARBITER_REFRESH_MS so the controller can tell a silent agent (ADR 0024).
 */
import type { ArbiterRequest, ArbiterRequestStatus, ArbiterState, Instance } from "../api/index.ts";
import type { ArbiterObservation } from "../engines/index.ts";

/** How often an unchanged report is written again (the controller ignores reports three times older). */
export const ARBITER_REFRESH_MS = 5000;

/** The report after asking the arbiter, which said `observation` (undefined: no answer) (pure). */
export function arbiterStateOf(previous: ArbiterState | undefined, observation: ArbiterObservation | undefined, nowMs: number): ArbiterState {
  const observedAt = new Date(nowMs).toISOString();
  if (observation === undefined) return { failures: (previous?.failures ?? 0) + 1, observedAt };
  return {
    ...(observation.primary === undefined ? {} : { primary: observation.primary }),
    ...(observation.primaryAddress === undefined ? {} : { primaryAddress: observation.primaryAddress }),
    ...(observation.epoch === undefined ? {} : { epoch: observation.epoch }),
    quorum: observation.quorum,
    ...(observation.departed.length === 0 ? {} : { departed: observation.departed }),
    observedAt,
  };
}

/** Is `next` worth writing over `current`: something it says changed, or the last write is due for a refresh (pure)? */
export function arbiterStateWorthWriting(current: ArbiterState | undefined, next: ArbiterState, nowMs: number): boolean {
  if (current === undefined) return true;
  const { observedAt: _a, ...said } = current;
  const { observedAt: _b, ...saying } = next;
  if (JSON.stringify(said) !== JSON.stringify(saying)) return true;
  return nowMs - (Date.parse(current.observedAt) || 0) >= ARBITER_REFRESH_MS;
}

/** What to do about the instance's spec.arbiterRequest, given whether a switchover of this agent runs for it (pure). */
export type RequestStep = { kind: "none" } | { kind: "start"; request: ArbiterRequest } | { kind: "running" } | { kind: "interrupted"; request: ArbiterRequest };

export function requestStep(instance: Instance, jobRunning: boolean): RequestStep {
  if (jobRunning) return { kind: "running" };
  const request = instance.spec.arbiterRequest;
  const outcome = instance.status?.arbiterRequest;
  if (request === undefined) return { kind: "none" };
  if (outcome?.id !== request.id) return { kind: "start", request };
  // Reported under way, yet no job runs here: the agent restarted in the middle; it is not run twice.
  return outcome.result === "InProgress" ? { kind: "interrupted", request } : { kind: "none" };
}

/** The outcome of a request that ended at `nowMs` (pure). */
export function finished(request: ArbiterRequest, startedAt: string, nowMs: number, outcome: Pick<ArbiterRequestStatus, "result" | "message"> & Partial<ArbiterRequestStatus>): ArbiterRequestStatus {
  return { ...outcome, id: request.id, startedAt, finishedAt: new Date(nowMs).toISOString() };
}
