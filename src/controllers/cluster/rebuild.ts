/**
 * Instances of a lost node (pure, ADR 0027): a node not Ready for longer than the cluster's node-lost grace period
 * has lost its instances. A secondary of a replicated component is rebuilt on another node (KubeBlocks'
 * RebuildInstance): bound there, it starts from empty data cloned from the primary. A primary is never moved: the ha
 * controller fails over first, and the former primary, a secondary then, is rebuilt like any other. A standalone
 * instance's data exists only on its node: it waits for the node. And whether each component's instances are on
 * different nodes (the InstancesSpread condition).
 */
import { nodeLostGraceMs, nodeLostSince, type Condition, type Instance } from "../../api/index.ts";
import { componentLabels } from "./labels.ts";
import { placeInstance, type NodeView, type PlacedInstance } from "./placement.ts";
import type { InstanceToCreate, PlanInput, ResolvedComponent } from "./plan.ts";

/** A secondary of a lost node to bind to another node. */
export interface Rebuild {
  name: string;
  /** The lost node. */
  from: string;
  to: string;
  /** Why, for the events. */
  why: string;
}

/** The type of the Cluster condition that says whether each component's instances are on different nodes. */
export const INSTANCES_SPREAD = "InstancesSpread";

/** The nodes lost at `nowMs` under the cluster's grace period, with since when they are not Ready. */
function lostNodes(view: NodeView, input: PlanInput, nowMs: number): Map<string, number> {
  const grace = nodeLostGraceMs(input.cluster.metadata.annotations);
  return new Map(
    view.nodes.flatMap((node) => {
      const since = nodeLostSince(node, nowMs, grace);
      return since === undefined ? [] : [[node.metadata.name, since] as const];
    }),
  );
}

/** Why `instance` of `component` cannot be rebuilt yet, or undefined when it can. */
function notYet(input: PlanInput, component: ResolvedComponent, instance: Instance, lost: ReadonlyMap<string, number>): string | undefined {
  const name = instance.metadata.name;
  if (component.replicated !== true) return undefined;
  const record = input.cluster.status?.replication?.[component.name];
  if (record?.currentPrimary === name || record?.targetPrimary === name) return `${name}: its node ${instance.spec.nodeName ?? ""} is lost and it is the primary; waiting for a failover`;
  const primary = input.instances.find((i) => i.metadata.name === record?.currentPrimary);
  if (primary?.status?.ready !== true || lost.has(primary.spec.nodeName ?? "")) return `${name}: its node ${instance.spec.nodeName ?? ""} is lost; waiting for a ready primary to copy its data from`;
  return undefined;
}

/** The secondaries of lost nodes to rebuild now, and what the others wait for. */
export function planRebuilds(input: PlanInput, placed: readonly PlacedInstance[]): { rebuilds: Rebuild[]; waiting: string[] } {
  const view = input.nodes;
  const result: { rebuilds: Rebuild[]; waiting: string[] } = { rebuilds: [], waiting: [] };
  if (view === undefined || input.nowMs === undefined || input.cluster.metadata.deletionTimestamp !== undefined) return result;
  const lost = lostNodes(view, input, input.nowMs);
  if (lost.size === 0) return result;
  const namespace = input.cluster.metadata.namespace ?? "default";
  let current = [...placed];
  for (const component of input.components.filter((c) => c.replicated === true && !c.stopped)) {
    const stranded = input.instances.filter((i) => i.spec.componentName === component.name && i.metadata.deletionTimestamp === undefined && lost.has(i.spec.nodeName ?? ""));
    for (const instance of stranded) {
      const from = instance.spec.nodeName ?? "";
      const wait = notYet(input, component, instance, lost);
      if (wait !== undefined) {
        result.waiting.push(wait);
        continue;
      }
      const labels = componentLabels(input.cluster.metadata.name, component.name);
      const others = current.filter((p) => p.name !== instance.metadata.name || p.namespace !== namespace);
      const request = { engine: instance.spec.engine, version: instance.spec.version, namespace, labels, policy: component.policy, avoid: [from, ...(instance.spec.formerNodes ?? [])] };
      const placement = placeInstance(request, { nodes: view.nodes, placed: others });
      if ("reason" in placement) {
        result.waiting.push(`${instance.metadata.name}: its node ${from} is lost; ${placement.reason}`);
        continue;
      }
      const seconds = Math.round((input.nowMs - (lost.get(from) ?? input.nowMs)) / 1000);
      result.rebuilds.push({ name: instance.metadata.name, from, to: placement.nodeName, why: `node ${from} has not been Ready for ${seconds} s (node-lost grace period ${nodeLostGraceMs(input.cluster.metadata.annotations) / 1000} s)` });
      current = [...others, { name: instance.metadata.name, namespace, nodeName: placement.nodeName, labels }];
    }
  }
  return result;
}

/** The InstancesSpread condition: True while no two instances of a component share a node. */
export function spreadCondition(components: readonly ResolvedComponent[], desired: readonly InstanceToCreate[], nodeOf: ReadonlyMap<string, string>, generation: number): Omit<Condition, "lastTransitionTime"> {
  const shared: string[] = [];
  // A component pinned to one node (schedulingPolicy.nodeName) is where it was asked to be.
  for (const component of components.filter((c) => c.policy?.nodeName === undefined)) {
    const byNode = new Map<string, string[]>();
    for (const d of desired.filter((x) => x.spec.componentName === component.name)) {
      const node = nodeOf.get(d.name);
      if (node !== undefined) byNode.set(node, [...(byNode.get(node) ?? []), d.name]);
    }
    for (const [node, names] of byNode) if (names.length > 1) shared.push(`${names.join(", ")} share node ${node}`);
  }
  if (shared.length === 0) return { type: INSTANCES_SPREAD, status: "True", reason: "OnDifferentNodes", message: "the instances of each component are on different nodes", observedGeneration: generation };
  const message = `${shared.join("; ")}: not enough Ready nodes could take them when they were placed; bound instances do not move (add nodes, then scale the component in and out to spread it)`;
  return { type: INSTANCES_SPREAD, status: "False", reason: "NotEnoughNodes", message, observedGeneration: generation };
}
