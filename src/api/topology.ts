/**
 * Which topology a cluster runs, and what it says of one component: decided here only (KubeBlocks' normalization),
 * for admission, the cluster, ops, ha and backup controllers, the node agent and the CLI alike. Generic over the
 * engine's topology type, so the API does not depend on the engines (they depend on it).
 */
import type { Cluster } from "./cluster.ts";

/** What a topology must have for these decisions (the engines' TopologyDefinition). */
export interface TopologyLike {
  name: string;
  default: boolean;
  components: readonly { name: string }[];
}

/** An engine, as far as its topologies go. */
export interface TopologySource<T extends TopologyLike> {
  definition: { topologies: readonly T[] };
}

/** Does the cluster name its engine by clusterDef? Only then do `topology` and the topology's component names count. */
export function usesClusterDef(cluster: Cluster): boolean {
  return cluster.spec.clusterDef !== undefined && cluster.spec.clusterDef !== "";
}

/** The topology called `requested`, or the default one (else the first) when none is named; undefined when unknown. */
export function topologyNamed<T extends TopologyLike>(topologies: readonly T[], requested: string | undefined): T | undefined {
  if (requested !== undefined && requested !== "") return topologies.find((t) => t.name === requested);
  return topologies.find((t) => t.default) ?? topologies[0];
}

/** The topology `cluster` runs on `engine`: `spec.topology` with a clusterDef, else the engine's default (as KubeBlocks). */
export function clusterTopology<T extends TopologyLike>(cluster: Cluster, engine: TopologySource<T>): T | undefined {
  return topologyNamed(engine.definition.topologies, usesClusterDef(cluster) ? cluster.spec.topology : undefined);
}

/**
 * The definition of component `name` in the cluster's topology. With a clusterDef the name must be one of the
 * topology's; with a componentDef the name is the user's choice, and a one-component topology's only component is it.
 */
export function componentTopology<T extends TopologyLike>(cluster: Cluster, engine: TopologySource<T>, name: string): T["components"][number] | undefined {
  const topology = clusterTopology(cluster, engine);
  if (topology === undefined) return undefined;
  const only = topology.components.length === 1 ? topology.components[0] : undefined;
  return topology.components.find((c) => c.name === name) ?? (usesClusterDef(cluster) ? undefined : only);
}
