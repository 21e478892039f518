/** Labels and annotations Holdfast puts on what it creates, with KubeBlocks' names where they exist. */

export const LABEL_INSTANCE = "app.kubernetes.io/instance";
export const LABEL_MANAGED_BY = "app.kubernetes.io/managed-by";
export const LABEL_COMPONENT = "apps.kubeblocks.io/component-name";
export const LABEL_ACCOUNT = "apps.kubeblocks.io/system-account";
/** The role an instance was last seen in (`primary`, `secondary`), as KubeBlocks labels pods. */
export const LABEL_ROLE = "kubeblocks.io/role";
export const MANAGED_BY = "holdfast";

/** Finalizer the cluster controller holds until a cluster's instances are gone. */
export const CLUSTER_FINALIZER = "cluster.kubeblocks.io/finalizer";

/** Annotation asking for a restart of one component; its value changes per request (KubeBlocks' restart annotation). */
export function restartAnnotation(component: string): string {
  return `kubeblocks.io/restart.${component}`;
}

/** Labels of objects belonging to a cluster component. */
export function componentLabels(cluster: string, component: string): Record<string, string> {
  return { [LABEL_INSTANCE]: cluster, [LABEL_COMPONENT]: component, [LABEL_MANAGED_BY]: MANAGED_BY };
}
