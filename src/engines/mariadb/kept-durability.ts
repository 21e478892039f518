/** The durability last applied to an instance, kept in its run directory so its next start and a promotion use it. */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { HostAccess, InstanceLayout, ReplicationDurability } from "../types.ts";

function durabilityFile(layout: InstanceLayout): string {
  return join(layout.runDirectory, "durability.json");
}

/** Keep `durability` for the instance's next start and promotion. */
export async function keepDurability(layout: InstanceLayout, durability: ReplicationDurability, host: HostAccess): Promise<void> {
  await host.writeFile(durabilityFile(layout), `${JSON.stringify(durability)}\n`, 0o600);
}

/** The durability kept; asynchronous when none was applied yet. */
export async function keptDurability(layout: InstanceLayout): Promise<ReplicationDurability> {
  const text = await readFile(durabilityFile(layout), "utf8").catch(() => undefined);
  return text?.includes('"synchronous"') === true ? { mode: "synchronous", quorum: 1 } : { mode: "asynchronous" };
}
