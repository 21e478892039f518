/** Gathering the facts of this machine a node agent reports: capacity, installed engines, versions. */
import { statfs } from "node:fs/promises";
import { arch, availableParallelism, hostname, platform, totalmem } from "node:os";
import type { NodeEngine } from "../api/index.ts";
import type { EngineLookup } from "../controllers/cluster/index.ts";
import type { NodeFacts } from "./node-status.ts";

/** What is known of the node before asking the machine. */
export interface NodeIdentity {
  /** The address other nodes reach this one at (`--advertise`). */
  advertise: string;
  /** Its non-loopback address where exposed endpoints listen (`--external-address`), if any. */
  externalAddress?: string | undefined;
  /** The Holdfast home: its file system's size is the node's disk capacity. */
  home: string;
  holdfastVersion: string;
}

/** The engines installed here and their versions (newest first), from the engine catalog (cached there). */
export async function installedEngines(engines: Pick<EngineLookup, "list" | "versions">): Promise<NodeEngine[]> {
  const found = await Promise.all(
    engines.list().map(async (engine) => ({ name: engine.name, versions: (await engines.versions(engine.name).catch(() => [])).map((v) => v.version) })),
  );
  return found.filter((engine) => engine.versions.length > 0);
}

/** The facts one heartbeat reports. */
export async function gatherNodeFacts(identity: NodeIdentity, engines: Pick<EngineLookup, "list" | "versions">, apiUrl: string | undefined): Promise<NodeFacts> {
  const disk = await statfs(identity.home);
  return {
    advertise: identity.advertise,
    externalAddress: identity.externalAddress,
    apiUrl,
    hostname: hostname(),
    cpus: availableParallelism(),
    memoryBytes: totalmem(),
    homeDiskBytes: disk.blocks * disk.bsize,
    engines: await installedEngines(engines),
    holdfastVersion: identity.holdfastVersion,
    operatingSystem: platform(),
    architecture: arch(),
  };
}
