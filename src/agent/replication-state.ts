/**
 * What the node agent reports of a replicated instance (Instance.status.replicationState), and when a new probe is
 * worth a write, without I/O: a change of role, timeline, upstream, answer or replica set at once; moving positions
 * and lag at most every LAG_REFRESH_MS, unless a role change asked for a fresh probe (spec.replication.observeAfter).
 */
import type { Instance, InstanceReplicationState } from "../api/index.ts";
import type { ReplicationObservation } from "../engines/index.ts";

/** How often moving positions and lag are written when nothing else changes. */
export const LAG_REFRESH_MS = 5000;

/** The state to report after a probe that saw `observation` (undefined: no answer) (pure). */
export function probedState(previous: InstanceReplicationState | undefined, observation: ReplicationObservation | undefined, nowMs: number): InstanceReplicationState {
  const observedAt = new Date(nowMs).toISOString();
  // A checkpoint carried out for a switchover stays reported until the process goes.
  const kept = previous?.checkpointed === undefined ? {} : { checkpointed: previous.checkpointed };
  if (observation === undefined) return { failures: (previous?.failures ?? 0) + 1, observedAt, ...kept };
  const state: InstanceReplicationState = { role: observation.role, timeline: observation.timeline, observedAt, ...kept };
  if (observation.received !== undefined) state.received = observation.received;
  if (observation.applied !== undefined) state.applied = observation.applied;
  if (observation.streamingFrom !== undefined) state.streamingFrom = observation.streamingFrom;
  if (observation.behindMs !== undefined) state.behindMs = observation.behindMs;
  if (observation.role === "primary") {
    state.replicas = observation.replicas.map((r) => ({
      name: r.name,
      ...(r.state === undefined ? {} : { state: r.state }),
      ...(r.lagBytes === undefined ? {} : { lagBytes: r.lagBytes }),
      ...(r.lagMs === undefined ? {} : { lagMs: Math.round(r.lagMs * 1000) / 1000 }),
    }));
  }
  return state;
}

/** The engine-neutral observation a reported state stands for; undefined when the last probe got no answer (pure). */
export function observationOf(state: InstanceReplicationState | undefined): ReplicationObservation | undefined {
  if (state?.role === undefined) return undefined;
  const replicas = (state.replicas ?? []).map((r) => ({ name: r.name, state: r.state, lagBytes: r.lagBytes, lagMs: r.lagMs }));
  return { role: state.role, timeline: state.timeline ?? 0, received: state.received, applied: state.applied, streamingFrom: state.streamingFrom, replicas };
}

/** The parts of a state whose change is written at once: role, timeline, upstream, answer, the replicas and their links. */
function shape(state: InstanceReplicationState): string {
  const replicas = (state.replicas ?? []).map((r) => [r.name, r.state ?? "", r.lagBytes === undefined]);
  return JSON.stringify([state.role ?? "", state.timeline ?? 0, state.streamingFrom ?? 0, state.failures ?? 0, replicas]);
}

function positions(state: InstanceReplicationState): string {
  return JSON.stringify([state.received ?? "", state.applied ?? "", (state.replicas ?? []).map((r) => [r.lagBytes ?? 0, r.lagMs ?? 0])]);
}

/** Is `next` worth writing over `current`, given the fresh probe the spec may ask for (observeAfter) (pure)? */
export function stateWorthWriting(current: InstanceReplicationState | undefined, next: InstanceReplicationState, nowMs: number, observeAfter: string | undefined): boolean {
  if (current === undefined || shape(current) !== shape(next)) return true;
  const observedAt = Date.parse(current.observedAt ?? "") || 0;
  if (observeAfter !== undefined && observedAt < Date.parse(observeAfter)) return true;
  if (positions(current) === positions(next)) return false;
  return observeAfter !== undefined || nowMs - observedAt >= LAG_REFRESH_MS;
}

/** Is `instance`'s report a probe taken at or after `after` (pure)? */
export function observedSince(instance: Instance, after: string | undefined): boolean {
  const observedAt = Date.parse(instance.status?.replicationState?.observedAt ?? "");
  return after !== undefined && Number.isFinite(observedAt) && observedAt >= Date.parse(after);
}
