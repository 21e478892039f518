/**
 * VolumeExpansion (ADR 0048): the component's `data` volumeClaimTemplate gets the size asked for, which the local
 * runtime enforces as a storage quota; the cluster controller gives it to the instances and their node agents measure
 * against it (and allow writes again below it). Nothing restarts. Shrinking is refused at admission; a size the free
 * disk of an instance's node cannot hold is refused here, from what the node agents last measured.
 */
import { DATA_VOLUME, dataStorageRequest, volumeExpansionProblems, type Cluster, type Instance, type OpsRequest } from "../../api/index.ts";
import { clusterInstances, type OpsHandler, type OpsServices, type OpsStep } from "./handler.ts";
import type { OpsProgress } from "./progress.ts";
import { freeDiskProblem, volumeExpansionProgress, withDataStorage } from "./volume-expansion-plan.ts";

export class VolumeExpansion implements OpsHandler {
  readonly startsFrom = ["Running", "Updating", "Abnormal"] as const;
  readonly #services: OpsServices;

  constructor(services: OpsServices) {
    this.#services = services;
  }

  async begin(ops: OpsRequest, cluster: Cluster): Promise<OpsStep> {
    const [problem] = volumeExpansionProblems(ops, cluster);
    if (problem !== undefined) return { failure: `${problem.field}: ${problem.message}` };
    const misfit = freeDiskProblem(ops, await clusterInstances(this.#services.store, cluster));
    if (misfit !== undefined) return { failure: misfit };
    const entries = ops.spec.volumeExpansion ?? [];
    // Recorded before the cluster changes, so a begin repeated after a crash never records the new size as the old.
    const before = Object.fromEntries(entries.map((e) => {
      const storage = dataStorageRequest(cluster.spec.componentSpecs.find((c) => c.name === e.componentName) ?? {});
      return [e.componentName, { volumeClaimTemplates: [{ name: DATA_VOLUME, ...(storage === undefined ? {} : { storage }) }] }];
    }));
    const live = ops.status?.lastConfiguration !== undefined ? ops : await this.#services.store.updateStatus<OpsRequest>({ ...ops, status: { ...ops.status, lastConfiguration: { components: before } } });
    const sizes = new Map(entries.flatMap((e) => e.volumeClaimTemplates.filter((t) => t.name === DATA_VOLUME).map((t) => [e.componentName, t.storage] as const)));
    const updated = await this.#services.store.update<Cluster>(withDataStorage(cluster, sizes));
    return { ops: live, cluster: updated };
  }

  follow(ops: OpsRequest, cluster: Cluster, instances: readonly Instance[]): Promise<OpsProgress> {
    return Promise.resolve(volumeExpansionProgress(ops, cluster, instances));
  }
}
