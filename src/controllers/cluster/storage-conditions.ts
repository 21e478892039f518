/**
 * The cluster's StorageNearlyFull and StorageFull conditions (ADR 0048), from what the node agents measured of each
 * instance's storage against its quota (pure). Both are False when every instance is below the threshold or has no quota.
 */
import { bytesAsQuantity, type Condition, type Instance, type StorageLevel } from "../../api/index.ts";
import { setCondition } from "../runtime/index.ts";

type NewCondition = Omit<Condition, "lastTransitionTime">;

/** `name: used of quota (n%)` for each instance at `level`. */
function usageOf(instances: readonly Instance[], levels: readonly StorageLevel[]): string[] {
  return instances.flatMap((i) => {
    const storage = i.status?.storage;
    if (storage === undefined || !levels.includes(storage.level) || storage.quotaBytes === undefined) return [];
    const percent = Math.floor((storage.usedBytes / Math.max(1, storage.quotaBytes)) * 100);
    return [`${i.metadata.name}: ${bytesAsQuantity(storage.usedBytes)} of ${bytesAsQuantity(storage.quotaBytes)} (${percent}%)`];
  });
}

/** The two storage conditions for `instances`. */
export function storageConditions(instances: readonly Instance[], generation: number): NewCondition[] {
  const full = usageOf(instances, ["Full"]);
  const nearly = usageOf(instances, ["NearlyFull", "Full"]);
  return [
    {
      type: "StorageNearlyFull",
      status: nearly.length > 0 ? "True" : "False",
      reason: nearly.length > 0 ? "QuotaNearlyReached" : "StorageBelowThreshold",
      message: nearly.length > 0 ? `storage at 90% of its quota or more: ${nearly.join("; ")}; expand it with a VolumeExpansion OpsRequest or delete data` : "every instance uses less than 90% of its storage quota",
      observedGeneration: generation,
    },
    {
      type: "StorageFull",
      status: full.length > 0 ? "True" : "False",
      reason: full.length > 0 ? "QuotaReached" : "StorageBelowQuota",
      message: full.length > 0 ? `storage quota reached, writes refused: ${full.join("; ")}; expand it with a VolumeExpansion OpsRequest or delete data` : "every instance is below its storage quota",
      observedGeneration: generation,
    },
  ];
}

/** `conditions` with the storage conditions set. */
export function withStorageConditions(conditions: Condition[] | undefined, instances: readonly Instance[], generation: number): Condition[] {
  return storageConditions(instances, generation).reduce<Condition[]>((all, condition) => setCondition(all, condition), conditions ?? []);
}
