/**
 * Synchronous commit of a replicated component, planned without I/O: what the cluster asks for, which replicas
 * count toward the quorum, whether a failover keeps every acknowledged commit, and whether commits wait now.
 *
 * Opt-in with the Cluster annotation `holdfast.io/ha-synchronous: "<quorum>"`: a commit is acknowledged once
 * `quorum` replicas have it on disk (PostgreSQL's `ANY quorum (...)`). Every existing replica is a quorum
 * member, running or not, so commits wait while fewer than `quorum` of them stream (CloudNativePG's
 * `dataDurability: required`, Patroni's `synchronous_mode_strict`): no commit is acknowledged that a failover
 * could lose. The wait is reported, never silent.
 */
import { quorumFailoverIsSafe } from "../../engines/postgresql/index.ts";
import type { Cluster } from "../../api/index.ts";
import type { ReplicationDurability, ReplicationObservation } from "../../engines/index.ts";

/** `"<quorum>"` (a whole number of replicas; `"true"` is 1) turns synchronous commit on; absent, `"0"` or `"false"` leave it off. */
export const ANNOTATION_SYNCHRONOUS = "holdfast.io/ha-synchronous";

const OFF = new Set(["", "0", "false", "off", "no"]);
const ON = new Set(["true", "on", "yes"]);

/** What the annotation asks for; a value not understood asks for quorum 1 (the safe side) and says so. */
export function requestedDurability(cluster: Cluster): { durability: ReplicationDurability; warning?: string } {
  const raw = cluster.metadata.annotations?.[ANNOTATION_SYNCHRONOUS];
  const value = raw?.trim().toLowerCase() ?? "";
  if (OFF.has(value)) return { durability: { mode: "asynchronous" } };
  if (ON.has(value)) return { durability: { mode: "synchronous", quorum: 1 } };
  const quorum = Number(value);
  if (/^\d+$/.test(value) && Number.isSafeInteger(quorum)) return { durability: { mode: "synchronous", quorum } };
  const warning = `annotation ${ANNOTATION_SYNCHRONOUS}: ${JSON.stringify(raw)} is not a number of replicas; synchronous commit with a quorum of 1 is used: set a whole number such as "1", or "0" for asynchronous replication`;
  return { durability: { mode: "synchronous", quorum: 1 }, warning };
}

/** The durability a component's members are configured with while `primary` is its primary. */
export interface DurabilityPlan {
  durability: ReplicationDurability;
  /** The quorum members: every member but the primary (instance names, sorted). */
  standbys: string[];
  /** Something the user should know: the annotation was not understood, or the quorum was lowered. */
  warning?: string;
}

/** The durability to apply around `primary` among `members` (instance names): the quorum over every other member, capped at their number. */
export function planDurability(cluster: Cluster, members: readonly string[], primary: string): DurabilityPlan {
  const requested = requestedDurability(cluster);
  const standbys = members.filter((m) => m !== primary).sort();
  const plan = (durability: ReplicationDurability, warning?: string): DurabilityPlan => ({ durability, standbys, ...(warning === undefined ? {} : { warning }) });
  if (requested.durability.mode === "asynchronous") return plan(requested.durability);
  const wanted = requested.durability.quorum;
  if (standbys.length === 0) {
    return plan({ mode: "asynchronous" }, `synchronous commit needs a replica, and ${primary} has none: commits are asynchronous until a replica is added`);
  }
  if (wanted > standbys.length) {
    const lowered = `${ANNOTATION_SYNCHRONOUS} asks for a quorum of ${wanted}, but there are only ${standbys.length} replicas: commits wait for all ${standbys.length}; add replicas or lower the quorum`;
    return plan({ mode: "synchronous", quorum: standbys.length }, lowered);
  }
  return plan(requested.durability, requested.warning);
}

/**
 * Why promoting the best of `candidates` (the replicas answering now) could lose an acknowledged commit, if it
 * could: with ANY k of n, every acknowledged commit is on k of them, so the most advanced of any n - k + 1 has
 * them all. `plan` is the durability around the failing primary.
 */
export function synchronousFailoverBlock(plan: DurabilityPlan, candidates: readonly string[]): string | undefined {
  if (plan.durability.mode === "asynchronous") return undefined;
  const { quorum } = plan.durability;
  if (quorumFailoverIsSafe(quorum, plan.standbys, candidates)) return undefined;
  const needed = plan.standbys.length - quorum + 1;
  const answering = candidates.filter((c) => plan.standbys.includes(c));
  return `synchronous commit (any ${quorum} of ${plan.standbys.join(", ")}): ${needed} of them must answer to be sure the new primary has every acknowledged commit, but ${answering.length} do${answering.length === 0 ? "" : ` (${answering.join(", ")})`}`;
}

/**
 * Why commits on `primary` wait now, if they do: fewer quorum members stream to it than the quorum.
 * `replicaName` maps an instance name to the name the primary reports it by.
 */
export function quorumShortfall(plan: DurabilityPlan, primary: string, seen: ReplicationObservation | undefined, replicaName: (instance: string) => string): string | undefined {
  if (plan.durability.mode === "asynchronous" || seen?.role !== "primary") return undefined;
  const streaming = plan.standbys.filter((s) => seen.replicas.some((r) => r.name === replicaName(s) && r.state === "streaming"));
  if (streaming.length >= plan.durability.quorum) return undefined;
  const missing = plan.standbys.filter((s) => !streaming.includes(s));
  return `commits on ${primary} wait: ${plan.durability.quorum} synchronous replica(s) needed, ${streaming.length} streaming (not streaming: ${missing.join(", ")}); they resume once enough replicas stream, or after removing the annotation ${ANNOTATION_SYNCHRONOUS}`;
}
