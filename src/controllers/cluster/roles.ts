/**
 * The roles of new instances (pure). In a replicated component the first instance is the primary and the
 * others stream from whichever instance is primary when they are created; after creation the ha controller
 * owns `role` and `replication` (switchover and failover change them), so the plan keeps what it finds.
 */
import { instanceName, type Cluster, type Instance, type InstanceSpec } from "../../api/index.ts";

/** What roles.ts needs of a component. */
export interface RoleComponent {
  name: string;
  replicated?: boolean;
}

/** The instance a replicated component's new replicas stream from: the recorded primary, else the instance marked primary, else ordinal 0. */
export function primaryOf(cluster: Cluster, component: RoleComponent, instances: readonly Instance[]): string {
  const recorded = cluster.status?.replication?.[component.name]?.currentPrimary;
  if (recorded !== undefined) return recorded;
  const marked = instances.find((i) => i.spec.componentName === component.name && i.spec.replication !== undefined && i.spec.role === "primary" && i.metadata.deletionTimestamp === undefined);
  return marked?.metadata.name ?? instanceName(cluster.metadata.name, component.name, 0);
}

/** `role` and `replication` of the instance at `ordinal`, given the live one if it exists. */
export function roleFields(cluster: Cluster, component: RoleComponent, ordinal: number, instances: readonly Instance[]): Pick<InstanceSpec, "role" | "replication"> {
  if (component.replicated !== true) return { role: ordinal === 0 ? "primary" : "secondary" };
  const name = instanceName(cluster.metadata.name, component.name, ordinal);
  const live = instances.find((i) => i.metadata.name === name);
  if (live?.spec.replication !== undefined) return { ...(live.spec.role === undefined ? {} : { role: live.spec.role }), replication: live.spec.replication };
  const primary = primaryOf(cluster, component, instances);
  return name === primary ? { role: "primary", replication: {} } : { role: "secondary", replication: { upstream: primary } };
}

/**
 * Scaling in never removes the primary of a replicated component that still exists (the highest ordinal
 * may be primary after a switchover): it stays until a switchover moves the role elsewhere.
 */
export function isProtectedPrimary(cluster: Cluster, components: readonly RoleComponent[], instance: Instance): boolean {
  const component = components.find((c) => c.name === instance.spec.componentName);
  if (component?.replicated !== true) return false;
  return primaryOf(cluster, component, []) === instance.metadata.name && cluster.status?.replication?.[component.name]?.currentPrimary !== undefined;
}
