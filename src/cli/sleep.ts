/** Waiting between polls. */
import { setTimeout as delay } from "node:timers/promises";

/** Resolve after `ms` milliseconds. */
export async function sleep(ms: number): Promise<void> {
  await delay(ms);
}
