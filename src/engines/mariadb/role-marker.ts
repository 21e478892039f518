/** The role a data directory last ran in (`holdfast-replication-role` in it): a former primary rejoins differently. */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { HostAccess, InstanceLayout } from "../types.ts";

function roleMarkerPath(layout: InstanceLayout): string {
  return join(layout.dataDirectory, "holdfast-replication-role");
}

/** Record the role the data directory runs in (configureRole, a promotion, a clone). */
export async function markRole(layout: InstanceLayout, role: "primary" | "secondary", host: HostAccess): Promise<void> {
  await host.writeFile(roleMarkerPath(layout), `${role}\n`, 0o600);
}

/** The role recorded, or undefined when none is (a data directory initialised before replication, or as a primary). */
export async function markedRole(layout: InstanceLayout): Promise<string | undefined> {
  return (await readFile(roleMarkerPath(layout), "utf8").catch(() => undefined))?.trim();
}
