/**
 * VolumeExpansion, decided without I/O (ADR 0048): which requests are refused (a volume other than `data`, a shrink, a
 * size the host's free disk cannot hold), the Cluster with the new sizes, and the progress judged from the instances.
 */
import { DATA_VOLUME, bytesAsQuantity, quotaMisfit, requestedQuota, type Cluster, type ComponentSpec, type Instance, type OpsRequest, type ProgressDetail } from "../../api/index.ts";
import type { OpsProgress } from "./progress.ts";

/**
 * Why the new quotas cannot fit the free disk of the nodes the instances are on, if they cannot: per node, what its
 * instances may still grow by (new quota − used, as their node agents measured) must fit the free disk it reported.
 */
export function freeDiskProblem(ops: OpsRequest, instances: readonly Instance[]): string | undefined {
  const quotas = new Map((ops.spec.volumeExpansion ?? []).map((e) => [e.componentName, requestedQuota(e)]));
  const byNode = new Map<string, { quota: number; used: number; free: number; names: string[] }>();
  for (const instance of instances) {
    const quota = quotas.get(instance.spec.componentName);
    const storage = instance.status?.storage;
    if (quota === undefined || storage === undefined) continue;
    const node = instance.spec.nodeName ?? "";
    const sum = byNode.get(node) ?? { quota: 0, used: 0, free: storage.freeBytes, names: [] };
    byNode.set(node, { quota: sum.quota + quota, used: sum.used + storage.usedBytes, free: Math.min(sum.free, storage.freeBytes), names: [...sum.names, instance.metadata.name] });
  }
  for (const [node, sum] of byNode) {
    const misfit = quotaMisfit(sum.quota, sum.used, sum.free);
    if (misfit !== undefined) return `${misfit} (instances ${sum.names.join(", ")}${node === "" ? "" : ` on node ${node}`}); ask for less`;
  }
  return undefined;
}

function withStorage(component: ComponentSpec, storage: string | number): ComponentSpec {
  const templates = (component.volumeClaimTemplates ?? []).map((t) => {
    if (t.name !== DATA_VOLUME) return t;
    const spec = t.spec ?? {};
    return { ...t, spec: { ...spec, resources: { ...spec.resources, requests: { ...spec.resources?.requests, storage } } } };
  });
  return { ...component, volumeClaimTemplates: templates };
}

/** The cluster with each listed component's data volume at the size given (`sizes`: component → storage). */
export function withDataStorage(cluster: Cluster, sizes: ReadonlyMap<string, string | number>): Cluster {
  const componentSpecs = cluster.spec.componentSpecs.map((c) => {
    const storage = sizes.get(c.name);
    return storage === undefined ? c : withStorage(c, storage);
  });
  return { ...cluster, spec: { ...cluster.spec, componentSpecs } };
}

function detailOf(instance: Instance, quota: number): ProgressDetail {
  const objectKey = `Instance/${instance.metadata.name}`;
  const group = instance.spec.componentName;
  if (instance.spec.storageQuota !== quota) return { group, objectKey, status: "Pending", message: "waiting for the new quota" };
  if (instance.status?.storage?.quotaBytes === quota || !instance.spec.running) return { group, objectKey, status: "Succeed", message: `storage quota ${bytesAsQuantity(quota)}` };
  return { group, objectKey, status: "Processing", message: "waiting for its node agent to measure against the new quota" };
}

/** Progress: each instance of the listed components is done once its node agent measures against the new quota. */
export function volumeExpansionProgress(ops: OpsRequest, cluster: Cluster, instances: readonly Instance[]): OpsProgress {
  const quotas = new Map((ops.spec.volumeExpansion ?? []).map((e) => [e.componentName, requestedQuota(e)]));
  const affected = instances.filter((i) => quotas.get(i.spec.componentName) !== undefined && i.metadata.deletionTimestamp === undefined);
  const details = affected.map((i) => detailOf(i, quotas.get(i.spec.componentName) ?? 0)).sort((a, b) => a.objectKey.localeCompare(b.objectKey));
  const done = details.filter((d) => d.status === "Succeed").length;
  const generationSeen = (cluster.status?.observedGeneration ?? 0) >= (ops.status?.clusterGeneration ?? 0);
  const pending = details.find((d) => d.status !== "Succeed");
  return {
    done,
    total: affected.length,
    finished: generationSeen && affected.length > 0 && done === affected.length,
    details,
    ...(pending === undefined ? {} : { waitingFor: `${pending.objectKey} (${pending.message ?? pending.status})` }),
  };
}
