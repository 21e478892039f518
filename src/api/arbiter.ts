/**
 * Fields of an arbiter's Instance (a Redis Sentinel): what its node agent hears from it (status.arbiterState), the
 * one request the ha controller may make of it at a time (spec.arbiterRequest: a switchover, or forgetting removed
 * members), and how that request went (status.arbiterRequest). The ha controller decides who is primary from the
 * reports of all of a component's arbiters; only each arbiter's own node agent talks to it.
 */
import { z } from "zod";

/** Instance.spec.arbiterRequest: written by the ha controller only; its node agent carries it out once per id. */
export const arbiterRequestSchema = z.object({
  /** New for every request; the outcome is reported under it. */
  id: z.string().min(1),
  /** `Switchover`: move the primary from `from` to `candidate` through this arbiter; `Forget`: forget removed members. */
  action: z.enum(["Switchover", "Forget"]),
  from: z.string().optional(),
  candidate: z.string().optional(),
  /** When the controller asked: a request no agent took up in time is given up. */
  requestedAt: z.string(),
});

/** Instance.status.arbiterState: what the node agent last heard from the arbiter it runs (written by it only). */
export const arbiterStateSchema = z.object({
  /** The member it names primary; absent when it names none (or an address that is no member), or did not answer. */
  primary: z.string().optional(),
  /** The address it names, `host:port`. */
  primaryAddress: z.string().optional(),
  /** Its configuration epoch for the component (Sentinel's `config-epoch`: the failover generation it knows). */
  epoch: z.int().optional(),
  /** Does it see enough arbiters for the quorum and a majority to authorise a failover (`SENTINEL CKQUORUM`)? */
  quorum: z.boolean().optional(),
  /** Removed members (`host:port`) it still watches and sees down. */
  departed: z.array(z.string()).optional(),
  /** Questions in a row it did not answer. */
  failures: z.int().optional(),
  /** When it was asked; refreshed at least every few seconds while it runs, so an old report means a silent agent. */
  observedAt: z.string(),
});

/** Instance.status.arbiterRequest: the outcome of spec.arbiterRequest with the same id (written by the node agent only). */
export const arbiterRequestStatusSchema = z.object({
  id: z.string(),
  result: z.enum(["InProgress", "Succeeded", "Failed"]),
  /** A switchover: when writes on the old primary were held and the candidate had everything, right before the promotion. */
  promotingAt: z.string().optional(),
  /** A switchover: the member the arbiter promoted. */
  primary: z.string().optional(),
  /** A switchover: how long writes on the old primary were held. */
  writesPausedMs: z.int().optional(),
  message: z.string().optional(),
  startedAt: z.string(),
  finishedAt: z.string().optional(),
});

export type ArbiterRequest = z.infer<typeof arbiterRequestSchema>;
export type ArbiterState = z.infer<typeof arbiterStateSchema>;
export type ArbiterRequestStatus = z.infer<typeof arbiterRequestStatusSchema>;
