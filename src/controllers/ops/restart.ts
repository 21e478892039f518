/**
 * Restart, Start and Stop. A Restart sets the component's restart annotation to a token of the request; the cluster
 * controller rolls it out one instance at a time (replicas, a switchover, the former primary). Its cancel removes the
 * annotation: instances not restarted yet are left running, restarted ones stay as they are.
 */
import { instanceNeedsRestart, type Cluster, type Instance, type OpsRequest, type ProgressDetail } from "../../api/index.ts";
import { restartAnnotation } from "../cluster/index.ts";
import type { OpsHandler, OpsServices, OpsStep } from "./handler.ts";
import { opsProgress, restartToken, targetComponents, type OpsProgress } from "./progress.ts";

/** Start and Stop: flip `stop` on every component; progress from the instances. */
export class StartStop implements OpsHandler {
  readonly #services: OpsServices;

  constructor(services: OpsServices) {
    this.#services = services;
  }

  async begin(ops: OpsRequest, cluster: Cluster): Promise<OpsStep> {
    const stop = ops.spec.type === "Stop";
    const updated = await this.#services.store.update<Cluster>({ ...cluster, spec: { ...cluster.spec, componentSpecs: cluster.spec.componentSpecs.map((c) => ({ ...c, stop })) } });
    return { ops, cluster: updated };
  }

  follow(ops: OpsRequest, cluster: Cluster, instances: readonly Instance[]): Promise<OpsProgress> {
    return Promise.resolve(opsProgress(ops, cluster, instances));
  }
}

function restartDetail(instance: Instance, token: string, cancelled: boolean): ProgressDetail {
  const base = { group: instance.spec.componentName, objectKey: `Instance/${instance.metadata.name}` };
  if (instance.status?.appliedRestartRequest === token) return { ...base, status: instance.status.ready === true ? "Succeed" : "Processing", message: "restarted" };
  if (instance.spec.restartRequest === token && instanceNeedsRestart(instance)) return { ...base, status: "Processing", message: "restarting" };
  return cancelled ? { ...base, status: "Cancelled", message: "not restarted: the restart was cancelled" } : { ...base, status: "Pending", message: "waiting for its turn in the rolling restart" };
}

export class Restart implements OpsHandler {
  readonly #services: OpsServices;

  constructor(services: OpsServices) {
    this.#services = services;
  }

  async begin(ops: OpsRequest, cluster: Cluster): Promise<OpsStep> {
    const annotations = { ...cluster.metadata.annotations };
    for (const component of targetComponents(ops, cluster)) annotations[restartAnnotation(component)] = restartToken(ops);
    const updated = await this.#services.store.update<Cluster>({ ...cluster, metadata: { ...cluster.metadata, annotations } });
    return { ops, cluster: updated };
  }

  follow(ops: OpsRequest, cluster: Cluster, instances: readonly Instance[]): Promise<OpsProgress> {
    const targets = new Set(targetComponents(ops, cluster));
    const details = instances.filter((i) => targets.has(i.spec.componentName)).map((i) => restartDetail(i, restartToken(ops), false));
    return Promise.resolve({ ...opsProgress(ops, cluster, instances), details });
  }

  async cancel(ops: OpsRequest, cluster: Cluster): Promise<OpsStep> {
    const ours = new Set(targetComponents(ops, cluster).map(restartAnnotation));
    const annotations = Object.fromEntries(Object.entries(cluster.metadata.annotations ?? {}).filter(([key, value]) => !(ours.has(key) && value === restartToken(ops))));
    const updated = await this.#services.store.update<Cluster>({ ...cluster, metadata: { ...cluster.metadata, annotations } });
    return { ops, cluster: updated };
  }

  /** Done per instance once nothing of the restart is left to apply; finished when the components run again. */
  followCancel(ops: OpsRequest, cluster: Cluster, instances: readonly Instance[]): Promise<OpsProgress> {
    const targets = new Set(targetComponents(ops, cluster));
    const affected = instances.filter((i) => targets.has(i.spec.componentName));
    const details = affected.map((i) => restartDetail(i, restartToken(ops), true));
    const settled = (d: ProgressDetail): boolean => d.status === "Succeed" || d.status === "Cancelled";
    const running = [...targets].every((c) => cluster.status?.components?.[c]?.phase === "Running");
    const done = affected.filter((i) => i.status?.ready === true && (i.spec.restartRequest !== restartToken(ops) || !instanceNeedsRestart(i))).length;
    return Promise.resolve({ done, total: affected.length, finished: running && done === affected.length && details.every(settled), details });
  }
}
