/**
 * An instance bound to this node as the node agent's backup runner and WAL archiver see it: its engine, the installed
 * version, its files, and its OS user. Only the agent resolves these; controllers speak of instances by name.
 */
import type { Instance } from "../api/index.ts";
import type { HomePaths } from "../config/index.ts";
import type { Engine, EngineVersion, HostAccess, InstanceContext } from "../engines/index.ts";
import type { InstanceUsers, ServiceUser } from "../runtime/index.ts";
import type { EngineLookup } from "../controllers/cluster/index.ts";
import { UnavailableError } from "../errors/index.ts";
import { instanceContext } from "./instance-context.ts";

/** What resolving an instance on this node needs. */
export interface LocalInstanceDeps {
  engines: EngineLookup;
  users: InstanceUsers;
  paths: HomePaths;
  /** This node's name. */
  nodeName: string;
}

/** An instance of this node, ready for engine methods. */
export interface LocalInstance {
  instance: Instance;
  engine: Engine;
  version: EngineVersion;
  context: InstanceContext;
  user: ServiceUser;
  /** Commands and files as the instance's OS user. */
  host: HostAccess;
}

/** Is `instance` bound to this node? One without spec.nodeName (made before nodes had names) is. */
export function boundHere(instance: Instance, nodeName: string): boolean {
  return instance.spec.nodeName === undefined || instance.spec.nodeName === nodeName;
}

/** The instance with its engine, version and files; or why this node cannot act on it. */
export async function localInstance(deps: LocalInstanceDeps, instance: Instance): Promise<LocalInstance | { problem: string }> {
  const engine = deps.engines.find(instance.spec.engine);
  if (engine === undefined) return { problem: `engine ${instance.spec.engine} is not available in this build` };
  const context = await instanceContext(deps.paths, deps.engines, engine, instance).catch((error: unknown) => {
    if (error instanceof UnavailableError) return { problem: `${engine.name} ${instance.spec.version} is not installed on node ${deps.nodeName}` };
    throw error;
  });
  if ("problem" in context) return context;
  const { version } = context;
  const [user, host] = await Promise.all([deps.users.userOf(instance), deps.users.hostOf(instance)]);
  return { instance, engine, version, context, user, host };
}
