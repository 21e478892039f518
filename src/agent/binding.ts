/**
 * Which instances this node agent acts on: only those bound to its node (`spec.nodeName`). An instance made before
 * instances were bound to nodes is adopted, once, by the node whose home holds its files: its processes keep running
 * and it is not restarted (ADR 0020).
 */
import type { Instance } from "../api/index.ts";
import { exists } from "../engines/index.ts";
import type { HomePaths } from "../config/index.ts";
import type { Store } from "../store/index.ts";
import type { EventRecorder } from "../controllers/runtime/index.ts";
import { instanceLayout } from "./layout.ts";

/** What the agent does with an instance, given its binding and whether this node's home holds its files (pure). */
export type BindingDecision = "own" | "adopt" | "ignore";

/** Own an instance bound here; adopt an unbound one whose files are in this home; leave every other alone. */
export function bindingDecision(instance: Instance, nodeName: string, inThisHome: boolean): BindingDecision {
  const bound = instance.spec.nodeName;
  if (bound === nodeName) return "own";
  return bound === undefined && inThisHome ? "adopt" : "ignore";
}

/** The node agent's view of binding: its node name, home and where to write. */
export interface NodeBinding {
  nodeName: string;
  paths: HomePaths;
  store: Store;
  events: EventRecorder;
}

/** The instance as this agent should act on it (bound to its node, adopting it if need be), or undefined: not ours. */
export async function claimInstance(binding: NodeBinding, instance: Instance): Promise<Instance | undefined> {
  const unbound = instance.spec.nodeName === undefined;
  const decision = bindingDecision(instance, binding.nodeName, unbound && (await exists(instanceLayout(binding.paths, instance).rootDirectory)));
  if (decision === "ignore") return undefined;
  if (decision === "own") return instance;
  const adopted = await binding.store.update<Instance>({ ...instance, spec: { ...instance.spec, nodeName: binding.nodeName } });
  await binding.events.record(adopted, "Normal", "NodeBound", `bound to node ${binding.nodeName}, whose home holds its data (it was made before instances were bound to nodes)`);
  return adopted;
}
