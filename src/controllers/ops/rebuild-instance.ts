/**
 * RebuildInstance (ADR 0045): each listed replica gets new data, copied from its primary or restored from a Completed
 * backup of its component and caught up from the primary. The request is carried on the Cluster (one annotation per
 * instance, rebuild-request.ts); the cluster controller copies it into the Instance and its node agent does the rest.
 * A cancel removes the annotations: a replica whose old data was not removed yet keeps it; one whose data was removed
 * has nothing to go back to and is copied from its primary, as any replica without data is.
 */
import type { Backup, Cluster, Instance, OpsRequest } from "../../api/index.ts";
import { encodeRebuildRequest, rebuildAnnotation, rebuildRequestOf } from "../cluster/index.ts";
import { clusterInstances, type OpsHandler, type OpsServices, type OpsStep } from "./handler.ts";
import type { OpsProgress } from "./progress.ts";
import { planRebuild, rebuildCancelProgress, rebuildNames, rebuildProgress, rebuildToken, type FollowsPrimary, type RebuildTarget } from "./rebuild-instance-plan.ts";

export class RebuildInstance implements OpsHandler {
  readonly startsFrom = ["Running", "Abnormal", "Failed", "Updating"] as const;
  readonly #services: OpsServices;

  constructor(services: OpsServices) {
    this.#services = services;
  }

  async begin(ops: OpsRequest, cluster: Cluster): Promise<OpsStep> {
    const instances = await clusterInstances(this.#services.store, cluster);
    const plan = planRebuild(ops, cluster, { instances, backups: await this.#backups(ops, cluster), methodRebuilds: (engine, method) => this.#methodRebuilds(engine, method) });
    if ("failure" in plan) return plan;
    const annotations = { ...cluster.metadata.annotations, ...Object.fromEntries(plan.targets.map((t) => [rebuildAnnotation(t.instance), encodeRebuildRequest(requestOf(ops, t))])) };
    const updated = await this.#services.store.update<Cluster>({ ...cluster, metadata: { ...cluster.metadata, annotations } });
    return { ops, cluster: updated };
  }

  async follow(ops: OpsRequest, cluster: Cluster, instances: readonly Instance[]): Promise<OpsProgress> {
    const progress = rebuildProgress(ops, cluster, instances, { names: rebuildNames(ops), follows: this.#follows });
    // Done: the requests are taken off the Cluster, so an instance made again under the same name is not rebuilt.
    if (progress.finished) await this.#withdraw(ops, cluster);
    return progress;
  }

  async cancel(ops: OpsRequest, cluster: Cluster): Promise<OpsStep> {
    return { ops, cluster: await this.#withdraw(ops, cluster) };
  }

  followCancel(ops: OpsRequest, cluster: Cluster, instances: readonly Instance[]): Promise<OpsProgress> {
    return Promise.resolve(rebuildCancelProgress(ops, cluster, instances, { names: rebuildNames(ops), follows: this.#follows }));
  }

  readonly #follows: FollowsPrimary = (instance) => this.#services.engines.find(instance.spec.engine)?.replication?.replicaFollows(instance.status?.replication?.state) === true;

  /** The Cluster without this request's annotations (other requests' are kept). */
  async #withdraw(ops: OpsRequest, cluster: Cluster): Promise<Cluster> {
    const token = rebuildToken(ops);
    const ours = rebuildNames(ops).filter((name) => rebuildRequestOf(cluster, name)?.request === token).map(rebuildAnnotation);
    if (ours.length === 0) return cluster;
    const annotations = Object.fromEntries(Object.entries(cluster.metadata.annotations ?? {}).filter(([key]) => !ours.includes(key)));
    return this.#services.store.update<Cluster>({ ...cluster, metadata: { ...cluster.metadata, annotations } });
  }

  async #backups(ops: OpsRequest, cluster: Cluster): Promise<Map<string, Backup>> {
    const namespace = cluster.metadata.namespace ?? "default";
    const names = [...new Set((ops.spec.rebuildFrom ?? []).flatMap((e) => (e.backupName === undefined ? [] : [e.backupName])))];
    const found = await Promise.all(names.map((name) => this.#services.store.get<Backup>({ kind: "Backup", namespace, name })));
    return new Map(found.flatMap((b) => (b === undefined ? [] : [[b.metadata.name, b] as const])));
  }

  #methodRebuilds(engine: string, method: string): boolean {
    return this.#services.engines.find(engine)?.backupMethods.find((m) => m.name === method)?.restoreReplica !== undefined;
  }
}

function requestOf(ops: OpsRequest, target: RebuildTarget): { request: string; backup?: RebuildTarget["backup"] } {
  return { request: rebuildToken(ops), ...(target.backup === undefined ? {} : { backup: target.backup }) };
}
