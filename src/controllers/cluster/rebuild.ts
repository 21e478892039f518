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

/** The lost nodes of a pass, with since when; and the view of the nodes. */
interface LostView {
  view: NodeView;
  lost: ReadonlyMap<string, number>;
}

/** Why `instance` of a replicated component cannot be rebuilt yet, or undefined when it can. */
function notYet(input: PlanInput, component: string, instance: Instance, lost: ReadonlyMap<string, number>): string | undefined {
  const name = instance.metadata.name;
  const from = instance.spec.nodeName ?? "";
  const record = input.cluster.status?.replication?.[component] ?? {};
  if (record.currentPrimary === name || record.targetPrimary === name) return `${name}: its node ${from} is lost and it is the primary; waiting for a failover`;
  const primary = input.instances.find((i) => i.metadata.name === record.currentPrimary);
  const source = primary !== undefined && primary.status?.ready === true && !lost.has(primary.spec.nodeName ?? "");
  return source ? undefined : `${name}: its node ${from} is lost; waiting for a ready primary to copy its data from`;
}

/** What rebuilding one stranded instance comes to: a rebuild, or why it waits. */
function rebuildOne(input: PlanInput, world: LostView, component: ResolvedComponent, instance: Instance, placed: readonly PlacedInstance[]): Rebuild | { wait: string } {
  const { view, lost } = world;
  const wait = notYet(input, component.name, instance, lost);
  if (wait !== undefined) return { wait };
  const from = instance.spec.nodeName ?? "";
  const namespace = input.cluster.metadata.namespace ?? "default";
  const labels = componentLabels(input.cluster.metadata.name, component.name);
  const others = placed.filter((p) => p.name !== instance.metadata.name || p.namespace !== namespace);
  const request = { engine: instance.spec.engine, version: instance.spec.version, namespace, labels, policy: component.policy, avoid: [from, ...(instance.spec.formerNodes ?? [])] };
  const placement = placeInstance(request, { nodes: view.nodes, placed: others });
  if ("reason" in placement) return { wait: `${instance.metadata.name}: its node ${from} is lost; ${placement.reason}` };
  const nowMs = input.nowMs ?? 0;
  const grace = nodeLostGraceMs(input.cluster.metadata.annotations);
  const seconds = Math.round((nowMs - (lost.get(from) ?? nowMs)) / 1000);
  return { name: instance.metadata.name, from, to: placement.nodeName, why: `node ${from} has not been Ready for ${seconds} s (node-lost grace period ${grace / 1000} s)` };
}

/** The secondaries of lost nodes to rebuild now, and what the others wait for. */
export function planRebuilds(input: PlanInput, placed: readonly PlacedInstance[]): { rebuilds: Rebuild[]; waiting: string[] } {
  const view = input.nodes;
  const result: { rebuilds: Rebuild[]; waiting: string[] } = { rebuilds: [], waiting: [] };
  if (view === undefined || input.nowMs === undefined || input.cluster.metadata.deletionTimestamp !== undefined) return result;
  const lost = lostNodes(view, input, input.nowMs);
  const namespace = input.cluster.metadata.namespace ?? "default";
  let current = [...placed];
  for (const component of input.components.filter((c) => c.replicated === true && !c.stopped)) {
    const stranded = input.instances.filter((i) => i.spec.componentName === component.name && i.metadata.deletionTimestamp === undefined && lost.has(i.spec.nodeName ?? ""));
    for (const instance of stranded) {
      const outcome = rebuildOne(input, { view, lost }, component, instance, current);
      if ("wait" in outcome) {
        result.waiting.push(outcome.wait);
        continue;
      }
      result.rebuilds.push(outcome);
      current = [...current.filter((p) => p.name !== outcome.name || p.namespace !== namespace), { name: outcome.name, namespace, nodeName: outcome.to, labels: componentLabels(input.cluster.metadata.name, component.name) }];
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
