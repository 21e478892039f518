/**
 * Which role an instance starts in. Sentinel is the authority on who the master is: an instance that starts
 * as a master while Sentinel has promoted another would accept writes until Sentinel notices and demotes it
 * (about ten seconds), and those writes would be lost. So each start asks the Sentinels first.
 */
import { UnavailableError } from "../../errors/index.ts";
import type { Credentials } from "../types.ts";
import type { RedisTarget } from "./resp.ts";
import { askSentinels, type SentinelAnswers } from "./sentinel-probe.ts";

/** The decision, and what it rests on. */
export interface RedisStartRole {
  /** The master to replicate from; undefined starts the instance as the master. */
  masterPort: number | undefined;
  /** `sentinels`: a majority of Sentinels named the master; `last-known`: none did, the controller's record was used. */
  source: "sentinels" | "last-known";
}

/**
 * The role of the instance on `selfPort` (pure). A master named by a majority of Sentinels wins; without a
 * majority (Sentinels not running yet), the master the controller last recorded, e.g. instance 0 of a new component.
 */
export function planRedisStartRole(selfPort: number, sentinels: SentinelAnswers, lastKnownMasterPort: number | undefined): RedisStartRole {
  const master = sentinels.agreedMasterPort ?? lastKnownMasterPort;
  if (master === undefined) {
    throw new UnavailableError("no majority of Sentinels names a master and none is recorded: start the Sentinels, then the instance");
  }
  return { masterPort: master === selfPort ? undefined : master, source: sentinels.agreedMasterPort === undefined ? "last-known" : "sentinels" };
}

/** Ask the Sentinels, then plan the role of the instance on `selfPort`. */
export async function decideRedisStartRole(
  selfPort: number,
  sentinel: { ports: readonly RedisTarget[]; masterName: string; admin: Credentials },
  lastKnownMasterPort: number | undefined,
): Promise<RedisStartRole> {
  const answers = await askSentinels(sentinel.ports, sentinel.admin, sentinel.masterName);
  return planRedisStartRole(selfPort, answers, lastKnownMasterPort);
}
