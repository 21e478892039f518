/** Choosing which standby to promote when the primary is gone: the one that has the most WAL. */
import { compareLsn, laterLsn, walBytesBetween } from "./lsn.ts";

/** What the role probe saw on one reachable standby. */
export interface CandidateObservation {
  name: string;
  timeline: number;
  /** pg_last_wal_receive_lsn(); undefined when the standby has not streamed since it started. */
  receiveLsn: string | undefined;
  /** pg_last_wal_replay_lsn(). */
  replayLsn: string | undefined;
  /** False excludes the standby (not ready, being removed, marked not to be promoted). */
  eligible?: boolean;
}

/** Limits on who may be promoted. */
export interface CandidateOptions {
  /** The primary's last LSN the control plane saw; with maximumLagBytes, excludes standbys too far behind it. */
  lastKnownPrimaryLsn?: string;
  maximumLagBytes?: number;
}

/** All the WAL a standby holds: what it received, or replayed when it replayed more (after a restart nothing is "received" yet). */
export function walHeld(observation: CandidateObservation): string | undefined {
  return laterLsn(observation.receiveLsn, observation.replayLsn);
}

/** Within the lag limit of `options`, or no limit was set. */
function withinLagLimit(observation: CandidateObservation, options: CandidateOptions): boolean {
  if (options.lastKnownPrimaryLsn === undefined || options.maximumLagBytes === undefined) return true;
  const held = walHeld(observation);
  if (held === undefined) return false;
  return walBytesBetween(held, options.lastKnownPrimaryLsn) <= options.maximumLagBytes;
}

/** Best first: a later timeline (it followed a newer promotion), more WAL held, more replayed (less to apply before it serves), then name for a stable order. */
function better(a: CandidateObservation, b: CandidateObservation): number {
  if (a.timeline !== b.timeline) return b.timeline - a.timeline;
  return compareLsn(walHeld(b), walHeld(a)) || compareLsn(b.replayLsn, a.replayLsn) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

/** The eligible standbys in the order they should be tried, best first. */
export function rankFailoverCandidates(observations: readonly CandidateObservation[], options: CandidateOptions = {}): CandidateObservation[] {
  return observations.filter((observation) => observation.eligible !== false && withinLagLimit(observation, options)).sort(better);
}

/** The standby to promote, or undefined when none qualifies. */
export function chooseFailoverCandidate(observations: readonly CandidateObservation[], options: CandidateOptions = {}): CandidateObservation | undefined {
  return rankFailoverCandidates(observations, options)[0];
}
