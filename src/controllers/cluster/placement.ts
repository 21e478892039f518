/**
 * Which node an instance is bound to (pure, ADR 0027). The nodes that can take it: Ready, not being deleted, the
 * engine version installed, the node `schedulingPolicy.nodeName` names (if any), every `nodeSelector` label, no node
 * the instance was rebuilt away from, and every `DoNotSchedule` spread rule kept. Of those, the best: fewest instances
 * of the same component (anti-affinity: replicas on different nodes while there are enough), then the smallest skew of
 * the `ScheduleAnyway` rules, then the least loaded node, then by name. When every node that can take it already holds
 * one of the component, it still goes to one (a single machine keeps working) and says so (`spread: false`).
 */
import { isNodeReady, nodeHasEngine, type Instance, type Node, type TopologySpreadConstraint } from "../../api/index.ts";
import { LABEL_COMPONENT, LABEL_INSTANCE } from "./labels.ts";

/** An instance already bound to a node, as placement counts it. */
export interface PlacedInstance {
  name: string;
  namespace: string;
  nodeName: string;
  labels: Readonly<Record<string, string>>;
}

/** The nodes, and the instances bound to them (of every cluster). */
export interface NodeView {
  nodes: readonly Node[];
  placed: readonly PlacedInstance[];
}

/** The part of KubeBlocks' schedulingPolicy that placement honours (the API refuses the rest). */
export interface PlacementPolicy {
  nodeName?: string | undefined;
  nodeSelector?: Readonly<Record<string, string>> | undefined;
  topologySpreadConstraints?: readonly TopologySpreadConstraint[] | undefined;
}

/** What an instance needs of its node. */
export interface PlacementRequest {
  engine: string;
  version: string;
  namespace: string;
  /** The instance's labels: its cluster and component (LABEL_INSTANCE, LABEL_COMPONENT). */
  labels: Readonly<Record<string, string>>;
  policy?: PlacementPolicy | undefined;
  /** Nodes it must not go to (those it was rebuilt away from, and the lost one). */
  avoid?: readonly string[];
}

/** A node (and whether it holds no other instance of the component), or why none fits. */
export type Placement = { nodeName: string; spread: boolean } | { reason: string };

/** The live bound instances as placement counts them. */
export function placedInstances(instances: readonly Instance[]): PlacedInstance[] {
  return instances.flatMap((i) =>
    i.spec.nodeName === undefined || i.metadata.deletionTimestamp !== undefined ? [] : [{ name: i.metadata.name, namespace: i.metadata.namespace ?? "default", nodeName: i.spec.nodeName, labels: i.metadata.labels ?? {} }],
  );
}

/** Do `labels` carry every label of `selector`? */
function matches(selector: Readonly<Record<string, string>>, labels: Readonly<Record<string, string>> | undefined): boolean {
  return Object.entries(selector).every(([key, value]) => labels?.[key] === value);
}

/** The labels that pick out the instances of the request's component. */
function componentSelector(request: PlacementRequest): Record<string, string> {
  return { [LABEL_INSTANCE]: request.labels[LABEL_INSTANCE] ?? "", [LABEL_COMPONENT]: request.labels[LABEL_COMPONENT] ?? "" };
}

/** Why `node` cannot take the instance (before spread rules), or undefined when it can. */
function unfitReason(node: Node, request: PlacementRequest): string | undefined {
  const name = node.metadata.name;
  if (node.metadata.deletionTimestamp !== undefined) return `node ${name} is being deleted`;
  if (!isNodeReady(node)) return `node ${name} is not Ready`;
  if (request.avoid?.includes(name) === true) return `node ${name} still holds a former copy of the instance`;
  if (!nodeHasEngine(node, request.engine, request.version)) return `node ${name} does not have ${request.engine} ${request.version} installed`;
  const selector = request.policy?.nodeSelector ?? {};
  if (!matches(selector, node.metadata.labels)) return `node ${name} does not match schedulingPolicy.nodeSelector ${labelText(selector)}`;
  return undefined;
}

function labelText(labels: Readonly<Record<string, string>>): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(",");
}

/** How many instances `selector` matches in each value of the node label `key`, over `domains` (all start at 0). */
function domainCounts(constraint: TopologySpreadConstraint, request: PlacementRequest, view: NodeView, domains: ReadonlySet<string>): Map<string, number> {
  const selector = constraint.labelSelector?.matchLabels ?? componentSelector(request);
  const domainOf = new Map(view.nodes.map((n) => [n.metadata.name, n.metadata.labels?.[constraint.topologyKey]]));
  const counts = new Map([...domains].map((d) => [d, 0]));
  for (const placed of view.placed) {
    const domain = domainOf.get(placed.nodeName);
    if (domain === undefined || placed.namespace !== request.namespace || !matches(selector, placed.labels)) continue;
    counts.set(domain, (counts.get(domain) ?? 0) + 1);
  }
  return counts;
}

/** The skew on `node` if the instance went there (Infinity: the node lacks the rule's label). */
function skewOn(node: Node, constraint: TopologySpreadConstraint, counts: ReadonlyMap<string, number>): number {
  const domain = node.metadata.labels?.[constraint.topologyKey];
  if (domain === undefined) return Infinity;
  const min = Math.min(...counts.values());
  return (counts.get(domain) ?? 0) + 1 - min;
}

/**
 * For each rule, the skew each candidate would make. Its domains are the rule's label values on every node the
 * nodeSelector admits, Ready or not (as Kubernetes counts nodes with taints): a zone whose nodes are down holds the others back.
 */
function skews(candidates: readonly Node[], request: PlacementRequest, view: NodeView): { constraint: TopologySpreadConstraint; index: number; skew: Map<string, number> }[] {
  const selector = request.policy?.nodeSelector ?? {};
  const admitted = view.nodes.filter((n) => n.metadata.deletionTimestamp === undefined && matches(selector, n.metadata.labels));
  return (request.policy?.topologySpreadConstraints ?? []).map((constraint, index) => {
    const domains = new Set(admitted.flatMap((n) => n.metadata.labels?.[constraint.topologyKey] ?? []));
    const counts = domainCounts(constraint, request, view, domains);
    return { constraint, index, skew: new Map(candidates.map((n) => [n.metadata.name, skewOn(n, constraint, counts)])) };
  });
}

/** The node for one instance. */
export function placeInstance(request: PlacementRequest, view: NodeView): Placement {
  const named = request.policy?.nodeName;
  const pool = named === undefined ? view.nodes : view.nodes.filter((n) => n.metadata.name === named);
  if (named !== undefined && pool.length === 0) return { reason: `schedulingPolicy.nodeName names node ${named}, which does not exist (holdfast get nodes)` };
  const fitting = pool.filter((n) => unfitReason(n, request) === undefined);
  const pinned = named === undefined ? undefined : pool[0];
  if (fitting.length === 0) return { reason: (pinned === undefined ? undefined : unfitReason(pinned, request)) ?? noNodeReason(request, pool) };
  const rules = skews(fitting, request, view);
  const hard = rules.filter((r) => r.constraint.whenUnsatisfiable === "DoNotSchedule");
  const allowed = fitting.filter((n) => hard.every((r) => (r.skew.get(n.metadata.name) ?? Infinity) <= r.constraint.maxSkew));
  if (allowed.length === 0) return { reason: spreadReason(hard, fitting) };
  const soft = rules.filter((r) => r.constraint.whenUnsatisfiable === "ScheduleAnyway");
  const peers = componentSelector(request);
  const score = (n: Node): number[] => {
    const name = n.metadata.name;
    const onNode = view.placed.filter((p) => p.nodeName === name);
    const sameComponent = onNode.filter((p) => p.namespace === request.namespace && matches(peers, p.labels)).length;
    const softSkew = soft.reduce((sum, r) => sum + Math.max(0, (r.skew.get(name) ?? Infinity) - r.constraint.maxSkew), 0);
    return [sameComponent, softSkew, onNode.length];
  };
  const best = allowed.map((n) => ({ node: n, score: score(n) })).reduce((a, b) => (compareScores(b.score, a.score, b.node, a.node) < 0 ? b : a));
  return { nodeName: best.node.metadata.name, spread: best.score[0] === 0 };
}

/** Order two candidates: by score, element by element, then by node name. */
function compareScores(a: readonly number[], b: readonly number[], nodeA: Node, nodeB: Node): number {
  for (let i = 0; i < a.length; i++) {
    const diff = (a[i] ?? 0) - (b[i] ?? 0);
    if (diff !== 0 && !Number.isNaN(diff)) return diff;
  }
  return nodeA.metadata.name < nodeB.metadata.name ? -1 : 1;
}

function spreadReason(hard: readonly { constraint: TopologySpreadConstraint; index: number }[], fitting: readonly Node[]): string {
  const rules = hard.map((r) => `topologySpreadConstraints[${r.index}] (topologyKey ${r.constraint.topologyKey}, maxSkew ${r.constraint.maxSkew})`).join(" and ");
  return `every node that fits (${fitting.map((n) => n.metadata.name).join(", ")}) would break ${rules}; add nodes with that label, or use whenUnsatisfiable: ScheduleAnyway`;
}

function noNodeReason(request: PlacementRequest, nodes: readonly Node[]): string {
  if (nodes.length === 0) return "no node is registered yet (each holdfast server registers its node at start)";
  if (!nodes.some(isNodeReady)) return `no node is Ready (${nodes.map((n) => n.metadata.name).join(", ")})`;
  const reasons = nodes.map((n) => unfitReason(n, request)).filter((r) => r !== undefined);
  if (reasons.every((r) => r.includes(" installed"))) return `no Ready node has ${request.engine} ${request.version} installed; run holdfast engines install on one`;
  return `no node fits: ${reasons.join("; ")}`;
}
