/**
 * Creating the new cluster of a restore (ADR 0051), for the Restore OpsRequest and the Restore kind alike: the backed-up
 * cluster's spec plus spec.restore naming the backup, labelled with what asked for it, so a repeat finds it.
 */
import { clusterSchema, restoredBy, restoredClusterFor, restoreSourceSpec, unrestorableReason, type Backup, type Cluster, type RestoreRequest } from "../../api/index.ts";
import { AlreadyExistsError } from "../../errors/index.ts";
import type { Store } from "../../store/index.ts";

/** The restore's cluster: created now, or found made by the same request; else why it cannot be. */
export async function createRestoredCluster(store: Store, request: RestoreRequest): Promise<{ cluster: Cluster; created: boolean } | { failure: string }> {
  const manifest = await restoredManifest(store, request);
  if ("failure" in manifest) return manifest;
  try {
    return { cluster: await store.create(manifest), created: true };
  } catch (error) {
    if (!(error instanceof AlreadyExistsError)) throw error;
    const live = await store.get<Cluster>({ kind: "Cluster", namespace: request.namespace, name: request.clusterName });
    return live !== undefined && restoredBy(request.labels, live) ? { cluster: live, created: false } : { failure: `cluster ${request.clusterName} already exists: a restore creates a new cluster` };
  }
}

async function restoredManifest(store: Store, request: RestoreRequest): Promise<Cluster | { failure: string }> {
  const backup = await store.get<Backup>({ kind: "Backup", namespace: request.backupNamespace, name: request.backupName });
  if (backup === undefined) return { failure: `backup ${request.backupNamespace}/${request.backupName} not found` };
  const unrestorable = unrestorableReason(backup, request.pointInTime !== undefined);
  if (unrestorable !== undefined) return { failure: unrestorable };
  const spec = await restoreSourceSpec(backup, (name) => store.get<Cluster>({ kind: "Cluster", namespace: request.backupNamespace, name }));
  if (spec === undefined) return { failure: `backup ${request.backupName} does not record the cluster it was taken from` };
  try {
    const parsed = clusterSchema.safeParse(restoredClusterFor(request, spec));
    return parsed.success ? parsed.data : { failure: `the restored cluster is not valid: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}` };
  } catch (error) {
    return { failure: error instanceof Error ? error.message : String(error) };
  }
}
