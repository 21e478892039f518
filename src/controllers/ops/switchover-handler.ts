/** Switchover: the target primary is recorded in the cluster's status and the ha controller carries it out (switchover.ts plans it). */
import { now, type Cluster, type Instance, type OpsRequest } from "../../api/index.ts";
import { clusterInstances, type OpsHandler, type OpsServices, type OpsStep } from "./handler.ts";
import type { OpsProgress } from "./progress.ts";
import { planSwitchover, switchoverProgress, switchoverRecord, switchoverRecorded } from "./switchover.ts";

export class Switchover implements OpsHandler {
  readonly startsFrom = ["Running"] as const;
  readonly #services: OpsServices;

  constructor(services: OpsServices) {
    this.#services = services;
  }

  /** Record the switchover's target primary in the cluster's status, for the ha controller. A switchover changes no spec. */
  async begin(ops: OpsRequest, cluster: Cluster): Promise<OpsStep> {
    if (switchoverRecorded(ops, cluster)) return { ops, cluster };
    const planned = planSwitchover(ops, cluster, await clusterInstances(this.#services.store, cluster));
    if ("failure" in planned) return planned;
    const replication = { ...cluster.status?.replication };
    for (const plan of planned.plans) replication[plan.component] = switchoverRecord(replication[plan.component], plan, ops, now());
    // Written against the cluster as read: a failover decided meanwhile makes this conflict, and the next pass plans again.
    await this.#services.store.updateStatus<Cluster>({ ...cluster, status: { ...cluster.status, replication } });
    const summary = planned.plans.map((p) => `${p.component}: ${p.from} → ${p.to}`).join(", ");
    await this.#services.events.record(ops, "Normal", "SwitchoverRequested", `switching over ${summary}`);
    return { ops, cluster };
  }

  follow(ops: OpsRequest, cluster: Cluster, instances: readonly Instance[]): Promise<OpsProgress> {
    return Promise.resolve(switchoverProgress(ops, cluster, instances));
  }
}
