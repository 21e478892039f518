/**
 * The primary keeps WAL for every replica it has a slot for; a replica removed by scaling in (or whose instance was
 * deleted) no longer needs it. The primary's node agent compares the slots with the component's instances now and
 * then (and when they change), so a slot left behind by a restart is found later too.
 */
import { instanceName, type Instance } from "../api/index.ts";
import { errorMessage } from "../errors/index.ts";
import type { Credentials } from "../engines/index.ts";
import type { Store } from "../store/index.ts";
import { LABEL_INSTANCE } from "../controllers/cluster/index.ts";
import type { ReplicatedInstance, ReplicationReporter } from "./replicated-instance.ts";

/** The most ordinals a component can have (the API's replica limit). */
const MAX_ORDINALS = 64;
/** Slots are compared at most this often, unless the members change. */
const CHECK_EVERY_MS = 60_000;

/**
 * The instances (by name) of `component` whose slots the primary keeps although they are not members: only names
 * this component's instances would have, so slots made by others are left alone (pure).
 */
export function departedReplicas(clusterName: string, component: string, kept: readonly string[], members: readonly string[], replicaName: (instance: string) => string): string[] {
  const keptSet = new Set(kept);
  const memberSet = new Set(members);
  const departed: string[] = [];
  for (let ordinal = 0; ordinal < MAX_ORDINALS; ordinal++) {
    const name = instanceName(clusterName, component, ordinal);
    if (!memberSet.has(name) && keptSet.has(replicaName(name))) departed.push(name);
  }
  return departed;
}

export class DepartedSlots {
  readonly #store: Store;
  /** Per primary: the members and time of the last comparison. */
  readonly #checked = new Map<string, { members: string; at: number }>();

  constructor(store: Store) {
    this.#store = store;
  }

  /** Drop, on the running primary `r`, the slots of replicas that are no longer members. */
  async forget(r: ReplicatedInstance, admin: Credentials, reporter: ReplicationReporter): Promise<void> {
    const { replication, instance } = r;
    if (replication.keptReplicas === undefined) return;
    const key = instance.metadata.uid ?? instance.metadata.name;
    const before = await this.#members(instance);
    const last = this.#checked.get(key);
    if (last?.members === before.join(",") && Date.now() - last.at < CHECK_EVERY_MS) return;
    try {
      const kept = await replication.keptReplicas(r.context.port, admin);
      // Members read after the slots: a replica created meanwhile made its Instance before its slot, so it is never taken for departed.
      const current = await this.#members(instance);
      for (const name of departedReplicas(instance.spec.clusterName, instance.spec.componentName, kept, current, (i) => replication.replicaName(i))) {
        await replication.forgetReplica(r.context.port, admin, name);
        await reporter.record("Normal", "ReplicaForgotten", `${instance.metadata.name} no longer keeps WAL for ${name}, which is not a member any more (its replication slot was dropped)`);
      }
      this.#checked.set(key, { members: before.join(","), at: Date.now() });
    } catch (error) {
      await reporter.record("Warning", "ReplicaNotForgotten", `cannot drop the replication slots of removed replicas on ${instance.metadata.name}: ${errorMessage(error)}`);
    }
  }

  /** The names of the component's replicated instances as stored now (same owner, not being deleted), by ordinal. */
  async #members(instance: Instance): Promise<string[]> {
    const owner = instance.metadata.ownerReferences?.find((o) => o.kind === "Cluster")?.uid;
    const listed = await this.#store.list<Instance>("Instance", { namespace: instance.metadata.namespace ?? "default", labelSelector: `${LABEL_INSTANCE}=${instance.spec.clusterName}` });
    return listed.items
      .filter((i) => (i.metadata.ownerReferences ?? []).some((o) => o.uid === owner) && i.spec.componentName === instance.spec.componentName)
      .filter((i) => i.spec.replication !== undefined && i.metadata.deletionTimestamp === undefined)
      .sort((a, b) => a.spec.ordinal - b.spec.ordinal)
      .map((i) => i.metadata.name);
  }
}
