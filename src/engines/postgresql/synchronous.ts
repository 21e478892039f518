/**
 * Durability modes: asynchronous streaming (the default) or quorum-synchronous commit, where the
 * primary acknowledges a commit only after `quorum` standbys have flushed it
 * (`synchronous_standby_names = 'ANY n (...)'`).
 */
import { InvalidError } from "../../errors/index.ts";

/** What the cluster asks for. */
export type DurabilityMode = { mode: "asynchronous" } | { mode: "synchronous"; quorum: number };

/** The two settings a durability mode becomes; values unquoted. */
export interface SynchronousSettings {
  synchronous_standby_names: string;
  synchronous_commit: string;
}

/** synchronous_commit levels that wait for standbys, so a quorum means something. */
const WAITING_LEVELS = new Set(["on", "remote_write", "remote_apply"]);

/** A standby name in double quotes, as synchronous_standby_names reads it. */
function quoteName(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Refuse a quorum that is not a whole number from 1 to the number of standbys. */
function checkQuorum(quorum: number, standbys: readonly string[]): void {
  if (!Number.isInteger(quorum) || quorum < 1) {
    throw new InvalidError(`synchronous quorum ${quorum} is not allowed: use a whole number of at least 1`, {
      causes: [{ field: "quorum", message: "must be a whole number of at least 1" }],
    });
  }
  if (quorum > standbys.length) {
    throw new InvalidError(`synchronous quorum ${quorum} needs at least ${quorum} replicas besides the primary, but there are ${standbys.length}: add replicas or lower the quorum`, {
      causes: [{ field: "quorum", message: `must not exceed the number of standbys (${standbys.length})` }],
    });
  }
}

/**
 * The settings for `durability` on a primary whose standbys go by `standbys` (their replication
 * names). Every standby listed is a quorum member, so passing all replicas, up or not, makes commits
 * wait while fewer than `quorum` run: no acknowledged commit then exists on fewer than `quorum`
 * standbys. A synchronous_commit the user chose in `parameters` is kept when it still waits for standbys.
 */
export function planSynchronousReplication(durability: DurabilityMode, standbys: readonly string[], parameters: Readonly<Record<string, string>> = {}): SynchronousSettings {
  const chosen = parameters["synchronous_commit"];
  if (durability.mode === "asynchronous") return { synchronous_standby_names: "", synchronous_commit: chosen ?? "on" };
  checkQuorum(durability.quorum, standbys);
  if (chosen !== undefined && !WAITING_LEVELS.has(chosen)) {
    throw new InvalidError(`synchronous_commit = ${chosen} does not wait for standbys, so synchronous mode would not protect commits: remove the parameter or use on, remote_write or remote_apply`, {
      causes: [{ field: "parameters.synchronous_commit", message: "must be on, remote_write or remote_apply in synchronous mode" }],
    });
  }
  const names = [...new Set(standbys)].sort().map(quoteName).join(", ");
  return { synchronous_standby_names: `ANY ${durability.quorum} (${names})`, synchronous_commit: chosen ?? "on" };
}

/**
 * Can a failover keep every acknowledged commit? With `ANY quorum (members)`, each acknowledged commit
 * is on at least `quorum` members, so any `members - quorum + 1` of them include one that has it:
 * electing the most advanced of the reachable members is then safe.
 */
export function quorumFailoverIsSafe(quorum: number, members: readonly string[], reachable: readonly string[]): boolean {
  const memberSet = new Set(members);
  const reachableMembers = new Set(reachable.filter((name) => memberSet.has(name)));
  return reachableMembers.size >= memberSet.size - quorum + 1;
}
