/** Which engine a cluster component runs: the cluster's `clusterDef`, else the component's `componentDef`. */
import type { Cluster, ComponentSpec } from "./cluster.ts";

/**
 * The engine name for a component, or undefined when neither `spec.clusterDef` nor the component's
 * `componentDef` names a known engine. `componentDef` may carry a version suffix (`postgresql-15`),
 * as KubeBlocks' ComponentDefinition names do.
 */
export function engineNameFor(cluster: Pick<Cluster, "spec">, component: ComponentSpec, known: readonly string[]): string | undefined {
  const clusterDef = cluster.spec.clusterDef;
  if (clusterDef !== undefined && clusterDef !== "") return known.includes(clusterDef) ? clusterDef : undefined;
  const componentDef = component.componentDef;
  if (componentDef === undefined) return undefined;
  return [...known].sort((a, b) => b.length - a.length).find((name) => componentDef === name || componentDef.startsWith(`${name}-`));
}
