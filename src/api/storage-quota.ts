/**
 * Storage quotas (ADR 0048): the local runtime enforces a component's `data` volumeClaimTemplate's storage request as
 * a quota on the bytes an instance keeps on disk. Pure: the levels, the quota of a component, whether one fits.
 */
import { z } from "zod";
import type { Cluster, ComponentSpec } from "./cluster.ts";
import type { OpsRequest, VolumeExpansionSpec } from "./ops-request.ts";
import { parseQuantity } from "./common.ts";

/** The volumeClaimTemplate whose storage is the quota (KubeBlocks' engines name their data volume so). */
export const DATA_VOLUME = "data";

/** From this share of its quota on, an instance's storage is nearly full (a warning); from 1, full (writes refused). */
export const NEARLY_FULL_SHARE = 0.9;

export const storageLevelSchema = z.enum(["Ok", "NearlyFull", "Full"]);
export type StorageLevel = z.infer<typeof storageLevelSchema>;

/** What the node agent last measured of an instance's storage (written by the node agent only). */
export const instanceStorageStatusSchema = z.object({
  /** Bytes the instance's files take on disk (allocated blocks: data, WAL, logs kept beside them). */
  usedBytes: z.number().nonnegative(),
  /** The quota it was measured against (spec.storageQuota at the time); absent: none. */
  quotaBytes: z.number().nonnegative().optional(),
  /** Bytes free on the host's filesystem that holds it, for unprivileged users (statfs bavail). */
  freeBytes: z.number().nonnegative(),
  level: storageLevelSchema,
  measuredAt: z.string(),
  /** The start (status.startedAt) of the process the engine's write protection was applied to; absent: writes allowed. */
  writesRefusedFor: z.string().optional(),
});
export type InstanceStorageStatus = z.infer<typeof instanceStorageStatusSchema>;

/** The level of `usedBytes` against `quotaBytes` (no quota: always Ok). */
export function storageLevel(usedBytes: number, quotaBytes: number | undefined): StorageLevel {
  if (quotaBytes === undefined || quotaBytes <= 0) return "Ok";
  if (usedBytes >= quotaBytes) return "Full";
  return usedBytes >= quotaBytes * NEARLY_FULL_SHARE ? "NearlyFull" : "Ok";
}

/** The storage request of a component's `data` volumeClaimTemplate, if it has one. */
export function dataStorageRequest(component: Pick<ComponentSpec, "volumeClaimTemplates">): string | number | undefined {
  return component.volumeClaimTemplates?.find((t) => t.name === DATA_VOLUME)?.spec?.resources?.requests?.["storage"];
}

/** The quota, in bytes, of a component's instances (its `data` storage request), if it sets one. */
export function storageQuotaOf(component: Pick<ComponentSpec, "volumeClaimTemplates">): number | undefined {
  const request = dataStorageRequest(component);
  return request === undefined ? undefined : Math.floor(parseQuantity(request));
}

/**
 * Why a quota of `quotaBytes` cannot be given to an instance that uses `usedBytes` on a filesystem with `freeBytes`
 * free, if it cannot: what it may still grow by must fit what is free.
 */
export function quotaMisfit(quotaBytes: number, usedBytes: number, freeBytes: number): string | undefined {
  const growth = quotaBytes - usedBytes;
  if (growth <= freeBytes) return undefined;
  return `a storage quota of ${bytesAsQuantity(quotaBytes)} does not fit the host's free disk: ${bytesAsQuantity(usedBytes)} used, it may grow by ${bytesAsQuantity(growth)} but only ${bytesAsQuantity(freeBytes)} is free`;
}

/** Bytes in the binary units of a Kubernetes quantity, for messages that compare with a manifest (e.g. 1.5Gi). */
export function bytesAsQuantity(bytes: number): string {
  const units = ["", "Ki", "Mi", "Gi", "Ti", "Pi"];
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  const text = unit === 0 ? String(Math.round(value)) : String(Math.round(value * 10) / 10);
  return `${text}${units[unit] ?? ""}${unit === 0 ? " bytes" : ""}`;
}

/** A refused VolumeExpansion entry: the field and why. */
export interface ExpansionProblem {
  field: string;
  message: string;
}

/** The new data quota in bytes of an entry (its `data` template), if it lists one. */
export function requestedQuota(entry: VolumeExpansionSpec): number | undefined {
  const storage = entry.volumeClaimTemplates.find((t) => t.name === DATA_VOLUME)?.storage;
  return storage === undefined ? undefined : Math.floor(parseQuantity(storage));
}

function entryProblems(entry: VolumeExpansionSpec, index: number, cluster: Cluster): ExpansionProblem[] {
  const base = `spec.volumeExpansion[${index}]`;
  const component = cluster.spec.componentSpecs.find((c) => c.name === entry.componentName);
  if (component === undefined) {
    const names = cluster.spec.componentSpecs.map((c) => c.name).join(", ");
    return [{ field: `${base}.componentName`, message: `component ${entry.componentName} is not in cluster ${cluster.metadata.name} (it has ${names})` }];
  }
  const current = dataStorageRequest(component);
  return entry.volumeClaimTemplates.flatMap((template, j): ExpansionProblem[] => {
    const field = `${base}.volumeClaimTemplates[${j}]`;
    if (template.name !== DATA_VOLUME) return [{ field: `${field}.name`, message: `only the ${DATA_VOLUME} volume has a size here (got ${template.name})` }];
    if (current === undefined) return [{ field: `${field}.name`, message: `component ${entry.componentName} has no ${DATA_VOLUME} volumeClaimTemplate to expand; set its storage in the Cluster` }];
    if (parseQuantity(template.storage) < parseQuantity(current)) {
      return [{ field: `${field}.storage`, message: `${String(template.storage)} is smaller than the current ${String(current)}: volumes can only grow` }];
    }
    return [];
  });
}

/** Every problem of the request against its cluster (admission and the handler both ask). */
export function volumeExpansionProblems(ops: OpsRequest, cluster: Cluster): ExpansionProblem[] {
  const entries = ops.spec.volumeExpansion ?? [];
  if (entries.length === 0) return [{ field: "spec.volumeExpansion", message: "lists no component, e.g. [{componentName: NAME, volumeClaimTemplates: [{name: data, storage: 30Gi}]}]" }];
  return entries.flatMap((entry, i) => entryProblems(entry, i, cluster));
}

