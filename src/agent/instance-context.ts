/** The engine context of an instance (its layout, engine version, parameters and role): built here only. */
import type { Instance } from "../api/index.ts";
import type { HomePaths } from "../config/index.ts";
import { UnavailableError } from "../errors/index.ts";
import type { Engine, InstanceContext } from "../engines/index.ts";
import type { EngineLookup } from "../controllers/cluster/index.ts";
import { instanceLayout } from "./layout.ts";

/**
 * What `engine` needs to act on `instance` on this node: where its files live, the installed version it runs, its
 * parameters, and the role its spec gives it. UnavailableError when that version is no longer installed here.
 */
export async function instanceContext(paths: HomePaths, engines: Pick<EngineLookup, "versions">, engine: Engine, instance: Instance): Promise<InstanceContext> {
  const version = (await engines.versions(engine.name)).find((v) => v.version === instance.spec.version);
  if (version === undefined) throw new UnavailableError(`${engine.name} ${instance.spec.version} is no longer installed on this host; run holdfast engines install`);
  return { ...instanceLayout(paths, instance), version, parameters: instance.spec.parameters, role: instance.spec.role ?? "primary" };
}
