/**
 * Restore (ADR 0051): the OpsRequest creates the new cluster `spec.clusterName` from `spec.restore.backupName`, shaped
 * like the backed-up cluster, through the same `spec.restore` path as `holdfast cluster restore`, and follows it until
 * it is Running. The cluster is labelled with the request, so a repeat after a crash finds it instead of failing.
 */
import { clusterSchema, opsRestoredCluster, restoreSourceSpec, unrestorableReason, type Backup, type Cluster, type OpsRequest } from "../../api/index.ts";
import { AlreadyExistsError } from "../../errors/index.ts";
import { madeBy, restoreOpsProgress } from "./backup-restore-plan.ts";
import type { OpsHandler, OpsServices, OpsStep } from "./handler.ts";
import type { OpsProgress } from "./progress.ts";

export class RestoreOps implements OpsHandler {
  readonly #services: OpsServices;

  constructor(services: OpsServices) {
    this.#services = services;
  }

  /** Create the new cluster (before `begin`, which needs it). */
  async prepare(ops: OpsRequest): Promise<Cluster | { failure: string }> {
    const manifest = await this.#manifest(ops);
    if ("failure" in manifest) return manifest;
    try {
      const created = await this.#services.store.create(manifest);
      await this.#services.events.record(ops, "Normal", "ClusterCreated", `created cluster ${created.metadata.name} to restore backup ${ops.spec.restore?.backupName ?? "?"} into`);
      return created;
    } catch (error) {
      if (!(error instanceof AlreadyExistsError)) throw error;
      const live = await this.#services.store.get<Cluster>({ kind: "Cluster", namespace: manifest.metadata.namespace ?? "default", name: manifest.metadata.name });
      return live !== undefined && madeBy(ops, live) ? live : { failure: `cluster ${manifest.metadata.name} already exists: a Restore creates a new cluster` };
    }
  }

  begin(ops: OpsRequest, cluster: Cluster): Promise<OpsStep> {
    if (!madeBy(ops, cluster)) return Promise.resolve({ failure: `cluster ${cluster.metadata.name} already exists and was not created by this OpsRequest: a Restore creates a new cluster` });
    return Promise.resolve({ ops, cluster });
  }

  follow(ops: OpsRequest, cluster: Cluster): Promise<OpsProgress> {
    return Promise.resolve(restoreOpsProgress(ops, cluster));
  }

  async #manifest(ops: OpsRequest): Promise<Cluster | { failure: string }> {
    const restore = ops.spec.restore;
    if (restore === undefined) return { failure: "spec.restore is required for a Restore" };
    const namespace = restore.backupNamespace ?? ops.metadata.namespace ?? "default";
    const backup = await this.#services.store.get<Backup>({ kind: "Backup", namespace, name: restore.backupName });
    if (backup === undefined) return { failure: `backup ${namespace}/${restore.backupName} not found` };
    const unrestorable = unrestorableReason(backup, restore.restorePointInTime !== undefined);
    if (unrestorable !== undefined) return { failure: unrestorable };
    const spec = await restoreSourceSpec(backup, (name) => this.#services.store.get<Cluster>({ kind: "Cluster", namespace, name }));
    if (spec === undefined) return { failure: `backup ${restore.backupName} does not record the cluster it was taken from` };
    try {
      const parsed = clusterSchema.safeParse(opsRestoredCluster(ops, spec));
      return parsed.success ? parsed.data : { failure: `the restored cluster is not valid: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}` };
    } catch (error) {
      return { failure: error instanceof Error ? error.message : String(error) };
    }
  }
}
