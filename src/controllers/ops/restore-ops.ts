/**
 * Restore (ADR 0051): the OpsRequest creates the new cluster `spec.clusterName` from `spec.restore.backupName`, shaped
 * like the backed-up cluster, through the same `spec.restore` path as `holdfast cluster restore`, and follows it until
 * it is Running. The cluster is labelled with the request, so a repeat after a crash finds it instead of failing.
 */
import { opsRestoreRequest, type Cluster, type OpsRequest } from "../../api/index.ts";
import { createRestoredCluster } from "../restore/index.ts";
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
    const request = opsRestoreRequest(ops);
    if (request === undefined) return { failure: "spec.restore is required for a Restore" };
    const made = await createRestoredCluster(this.#services.store, request);
    if ("failure" in made) return made;
    if (made.created) await this.#services.events.record(ops, "Normal", "ClusterCreated", `created cluster ${request.clusterName} to restore backup ${request.backupName} into`);
    return made.cluster;
  }

  begin(ops: OpsRequest, cluster: Cluster): Promise<OpsStep> {
    if (!madeBy(ops, cluster)) return Promise.resolve({ failure: `cluster ${cluster.metadata.name} already exists and was not created by this OpsRequest: a Restore creates a new cluster` });
    return Promise.resolve({ ops, cluster });
  }

  follow(ops: OpsRequest, cluster: Cluster): Promise<OpsProgress> {
    return Promise.resolve(restoreOpsProgress(ops, cluster));
  }
}
