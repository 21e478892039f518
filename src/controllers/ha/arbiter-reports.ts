/**
 * Decisions from the arbiters' reports, without I/O (ADR 0024). Each arbiter's node agent reports the member its
 * arbiter names primary (status.arbiterState) and carries out the one request the controller makes of it
 * (spec.arbiterRequest → status.arbiterRequest); these functions say who a majority names, which arbiter to ask
 * for a switchover or to forget removed members, and what the controller does next in a switchover.
 */
import type { ArbiterRequest, ArbiterRequestStatus, ArbiterState, ComponentReplicationStatus, Instance } from "../../api/index.ts";

/** A report older than this does not count: its agent refreshes it every few seconds while the arbiter runs. */
export const ARBITER_REPORT_FRESH_MS = 15_000;
/** A request no agent took up, or did not finish, within this is given up (a switchover is bounded by 30 s). */
export const ARBITER_REQUEST_TIMEOUT_MS = 60_000;
/** After a switchover, how long the record waits for a majority of reports to name the new primary. */
export const ARBITER_AGREEMENT_WAIT_MS = 10_000;

/** The arbiter's report, if it counts: its instance runs, is ready, and was heard from lately (pure). */
export function arbiterReport(arbiter: Instance, nowMs: number): ArbiterState | undefined {
  const status = arbiter.status;
  const state = status?.arbiterState;
  if (state === undefined || !arbiter.spec.running || status?.ready !== true || status.pid === undefined) return undefined;
  const observedAt = Date.parse(state.observedAt);
  return Number.isFinite(observedAt) && nowMs - observedAt <= ARBITER_REPORT_FRESH_MS ? state : undefined;
}

/** The member more than half of all `arbiterCount` arbiters (reporting or not) name primary; undefined without such a majority (pure). */
export function agreedPrimary(arbiters: readonly Instance[], arbiterCount: number, nowMs: number): string | undefined {
  const votes = new Map<string, number>();
  for (const arbiter of arbiters) {
    const named = arbiterReport(arbiter, nowMs)?.primary;
    if (named !== undefined) votes.set(named, (votes.get(named) ?? 0) + 1);
  }
  for (const [name, count] of votes) if (count > arbiterCount / 2) return name;
  return undefined;
}

/** The highest epoch among the reports that name `primary` (pure), for messages. */
export function epochOf(arbiters: readonly Instance[], primary: string, nowMs: number): number | undefined {
  const epochs = arbiters.flatMap((a) => {
    const report = arbiterReport(a, nowMs);
    return report?.primary === primary && report.epoch !== undefined ? [report.epoch] : [];
  });
  return epochs.length === 0 ? undefined : Math.max(...epochs);
}

/** Is the request on `arbiter` still to be carried out, or being carried out (pure)? */
export function requestOpen(arbiter: Instance): boolean {
  const request = arbiter.spec.arbiterRequest;
  const outcome = arbiter.status?.arbiterRequest;
  return request !== undefined && (outcome?.id !== request.id || outcome.result === "InProgress");
}

/** The request asking `arbiter`'s agent to make it forget removed members, when one of them needs it and no request is open (pure). */
export function forgetRequest(arbiters: readonly Instance[], nowMs: number): { arbiter: string; request: ArbiterRequest } | undefined {
  const open = arbiters.some((a) => requestOpen(a) && nowMs - Date.parse(a.spec.arbiterRequest?.requestedAt ?? "") < ARBITER_REQUEST_TIMEOUT_MS);
  if (open) return undefined;
  // One arbiter at a time: the others keep the component's state, and a failover stays possible meanwhile.
  const chosen = byOrdinal(arbiters).find((a) => (arbiterReport(a, nowMs)?.departed ?? []).length > 0);
  if (chosen === undefined) return undefined;
  const requestedAt = new Date(nowMs).toISOString();
  return { arbiter: chosen.metadata.name, request: { id: `forget@${requestedAt}`, action: "Forget", requestedAt } };
}

/** What the controller does next in a switchover carried out by an arbiter's node agent. */
export type ArbiterSwitchoverStep =
  | { kind: "request"; arbiter: string; request: ArbiterRequest }
  | { kind: "wait" }
  /** Writes on the old primary are held and the candidate has everything: hold new connections too. */
  | { kind: "promoting" }
  /** The arbiter promoted `primary`: route writes to it; the record waits for a majority of reports to name it. */
  | { kind: "promoted"; primary: string }
  | { kind: "finish"; result: "Succeeded" | "Failed"; primary: string; message: string };

/** What a switchover step decides on. */
export interface ArbiterSwitchover {
  from: string;
  to: string;
  /** The switchover's request id (switchoverRequestId). */
  id: string;
  /** The members of the arbitrated component. */
  members: readonly string[];
  arbiters: readonly Instance[];
  /** How many arbiters the component has (a majority is of all of them). */
  arbiterCount: number;
  nowMs: number;
}

/** The id of the switchover the record asks for: one per request of the ops controller (its roleChange's start) (pure). */
export function switchoverRequestId(record: ComponentReplicationStatus | undefined, from: string, to: string): string {
  const change = record?.roleChange;
  const startedAt = change?.reason === "Switchover" && change.from === from && change.to === to ? change.startedAt : "";
  return `switchover:${from}>${to}@${startedAt}`;
}

/** The next step of a switchover (pure): ask an arbiter, follow its agent's report, or finish. */
export function arbiterSwitchoverStep(s: ArbiterSwitchover): ArbiterSwitchoverStep {
  const agreed = agreedPrimary(s.arbiters, s.arbiterCount, s.nowMs);
  const carrier = s.arbiters.find((a) => a.spec.arbiterRequest?.action === "Switchover" && a.spec.arbiterRequest.id === s.id);
  if (carrier === undefined) return startSwitchover(s, agreed);
  const outcome = carrier.status?.arbiterRequest;
  return followSwitchover(s, carrier, outcome?.id === s.id ? outcome : undefined, agreed);
}

function startSwitchover(s: ArbiterSwitchover, agreed: string | undefined): ArbiterSwitchoverStep {
  const failed = (message: string): ArbiterSwitchoverStep => ({ kind: "finish", result: "Failed", primary: agreed ?? s.from, message: `switchover from ${s.from} to ${s.to} failed: ${message}; ${agreed ?? s.from} is primary` });
  // A control plane restarted after the arbiters promoted the target only records it.
  if (agreed === s.to) return { kind: "finish", result: "Succeeded", primary: s.to, message: `${s.to} is primary: a majority of the ${s.arbiterCount} arbiters names it` };
  if (!s.members.includes(s.to)) return failed(`${s.to} is not an instance of the component: name one of ${s.members.join(", ")}`);
  if (agreed === undefined) return failed(`no majority of the ${s.arbiterCount} arbiters names a primary: start them, then retry`);
  if (agreed !== s.from) return failed(`a majority of the arbiters names ${agreed}, not ${s.from}`);
  const chosen = byOrdinal(s.arbiters).find((a) => {
    const report = arbiterReport(a, s.nowMs);
    return report?.primary === s.from && report.quorum === true;
  });
  if (chosen === undefined) return failed(`no arbiter that names ${s.from} sees enough of the others to fail over: check that they run`);
  const request: ArbiterRequest = { id: s.id, action: "Switchover", from: s.from, candidate: s.to, requestedAt: new Date(s.nowMs).toISOString() };
  return { kind: "request", arbiter: chosen.metadata.name, request };
}

function followSwitchover(s: ArbiterSwitchover, carrier: Instance, outcome: ArbiterRequestStatus | undefined, agreed: string | undefined): ArbiterSwitchoverStep {
  const failed = (message: string): ArbiterSwitchoverStep => ({ kind: "finish", result: "Failed", primary: agreed ?? s.from, message: `${message}; ${agreed ?? s.from} is primary` });
  const overdue = (at: string | undefined): boolean => s.nowMs - (Date.parse(at ?? "") || 0) > ARBITER_REQUEST_TIMEOUT_MS;
  const late = (what: string): string => `switchover from ${s.from} to ${s.to} failed: the node agent of ${carrier.metadata.name} did not ${what} within ${ARBITER_REQUEST_TIMEOUT_MS / 1000} s`;
  if (outcome === undefined) return overdue(carrier.spec.arbiterRequest?.requestedAt) ? failed(late("take it up")) : { kind: "wait" };
  switch (outcome.result) {
    case "Failed":
      // The arbiters may have promoted the target before the agent failed (or restarted): the role did move.
      if (agreed === s.to) return { kind: "finish", result: "Succeeded", primary: s.to, message: `${s.to} is primary: a majority of the ${s.arbiterCount} arbiters names it (${outcome.message ?? "the agent reported a failure"})` };
      return failed(outcome.message ?? `switchover from ${s.from} to ${s.to} failed`);
    case "InProgress":
      if (overdue(outcome.startedAt)) return failed(late("finish it"));
      return outcome.promotingAt === undefined ? { kind: "wait" } : { kind: "promoting" };
    case "Succeeded":
      return promoted(s, outcome, agreed);
  }
}

/** The arbiter promoted the candidate: finish once a majority names it (or waiting for that is over), else route and wait (pure). */
function promoted(s: ArbiterSwitchover, outcome: ArbiterRequestStatus, agreed: string | undefined): ArbiterSwitchoverStep {
  const primary = outcome.primary ?? s.to;
  // The others learn of the new primary from the one that promoted it; the record follows the majority.
  const waitedMs = s.nowMs - (Date.parse(outcome.finishedAt ?? "") || 0);
  if (agreed === primary || waitedMs > ARBITER_AGREEMENT_WAIT_MS) return { kind: "finish", result: "Succeeded", primary, message: outcome.message ?? `${primary} is primary` };
  return { kind: "promoted", primary };
}

function byOrdinal(instances: readonly Instance[]): Instance[] {
  return [...instances].sort((a, b) => a.spec.ordinal - b.spec.ordinal);
}
