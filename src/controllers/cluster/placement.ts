/**
 * Which node a new instance is bound to (pure): a Ready node that has the engine version installed, the least loaded
 * (fewest instances bound to it), or the node KubeBlocks' `schedulingPolicy.nodeName` names. Spreading a component's
 * replicas over different nodes comes with databases on several machines (ADR 0020).
 */
import { isNodeReady, nodeHasEngine, type Instance, type Node } from "../../api/index.ts";

/** The nodes as placement sees them, and how many instances each has bound to it. */
export interface NodeView {
  nodes: readonly Node[];
  load: ReadonlyMap<string, number>;
}

/** What an instance needs of its node. */
export interface PlacementRequest {
  engine: string;
  version: string;
  /** A node the cluster asks for by name (schedulingPolicy.nodeName). */
  nodeName?: string | undefined;
}

/** A node, or why none fits (the cluster's status says it). */
export type Placement = { nodeName: string } | { reason: string };

/** How many live instances are bound to each node. */
export function nodeLoad(instances: readonly Instance[]): Map<string, number> {
  const load = new Map<string, number>();
  for (const instance of instances) {
    const node = instance.spec.nodeName;
    if (node !== undefined && instance.metadata.deletionTimestamp === undefined) load.set(node, (load.get(node) ?? 0) + 1);
  }
  return load;
}

/** Why `node` cannot take the instance, or undefined when it can. */
function unfitReason(node: Node, request: PlacementRequest): string | undefined {
  if (!isNodeReady(node)) return `node ${node.metadata.name} is not Ready`;
  if (!nodeHasEngine(node, request.engine, request.version)) return `node ${node.metadata.name} does not have ${request.engine} ${request.version} installed`;
  return undefined;
}

/** The node for one new instance. */
export function placeInstance(request: PlacementRequest, view: NodeView): Placement {
  if (request.nodeName !== undefined) {
    const named = view.nodes.find((n) => n.metadata.name === request.nodeName);
    if (named === undefined) return { reason: `schedulingPolicy.nodeName names node ${request.nodeName}, which does not exist (holdfast get nodes)` };
    const reason = unfitReason(named, request);
    return reason === undefined ? { nodeName: named.metadata.name } : { reason };
  }
  const fitting = view.nodes.filter((n) => n.metadata.deletionTimestamp === undefined && unfitReason(n, request) === undefined);
  if (fitting.length === 0) return { reason: noNodeReason(request, view.nodes) };
  const loadOf = (n: Node): number => view.load.get(n.metadata.name) ?? 0;
  const lighter = (a: Node, b: Node): Node => (loadOf(b) < loadOf(a) || (loadOf(b) === loadOf(a) && b.metadata.name < a.metadata.name) ? b : a);
  return { nodeName: fitting.reduce(lighter).metadata.name };
}

function noNodeReason(request: PlacementRequest, nodes: readonly Node[]): string {
  if (nodes.length === 0) return "no node is registered yet (each holdfast server registers its node at start)";
  const ready = nodes.filter(isNodeReady);
  if (ready.length === 0) return `no node is Ready (${nodes.map((n) => n.metadata.name).join(", ")})`;
  return `no Ready node has ${request.engine} ${request.version} installed; run holdfast engines install on one`;
}
