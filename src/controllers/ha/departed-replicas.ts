/**
 * The primary keeps WAL for every replica it has a slot for; a replica removed by scaling in (or whose
 * instance was deleted) no longer needs it. Level-triggered: the primary's slots are compared with the
 * component's instances, so a slot left behind by a control-plane restart is found later too.
 */
import { instanceName, type Cluster, type Instance } from "../../api/index.ts";
import { errorMessage } from "../../errors/index.ts";
import { LABEL_INSTANCE } from "../cluster/index.ts";
import { componentMembers, credentialsOf, type ComponentHandle, type HaServices } from "./members.ts";
import type { Member } from "./plan.ts";

/** The most ordinals a component can have (the API's replica limit). */
const MAX_ORDINALS = 64;
/** Slots are compared at most this often, unless the members change. */
const CHECK_EVERY_MS = 60_000;

/**
 * The instances (by name) of `component` whose slots the primary keeps although they are not members:
 * only names this component's instances would have, so slots made by others are left alone.
 */
export function departedReplicas(cluster: Cluster, component: string, kept: readonly string[], members: readonly string[], replicaName: (instance: string) => string): string[] {
  const keptSet = new Set(kept);
  const memberSet = new Set(members);
  const departed: string[] = [];
  for (let ordinal = 0; ordinal < MAX_ORDINALS; ordinal++) {
    const name = instanceName(cluster.metadata.name, component, ordinal);
    if (!memberSet.has(name) && keptSet.has(replicaName(name))) departed.push(name);
  }
  return departed;
}

export class DepartedReplicas {
  readonly #services: HaServices;
  /** Per component: the members and time of the last comparison. */
  readonly #checked = new Map<string, { members: string; at: number }>();

  constructor(services: HaServices) {
    this.#services = services;
  }

  /** Drop, on the running primary `leader`, the slots of replicas that are no longer members. */
  async forget(handle: ComponentHandle, members: readonly Member[], leader: Member): Promise<void> {
    const replication = handle.replication;
    if (replication.keptReplicas === undefined || leader.observation?.role !== "primary") return;
    const key = `${handle.cluster.metadata.uid ?? handle.cluster.metadata.name}/${handle.component}`;
    const names = members.map((m) => m.name);
    const last = this.#checked.get(key);
    if (last?.members === names.join(",") && Date.now() - last.at < CHECK_EVERY_MS) return;
    try {
      const admin = (await credentialsOf(this.#services, handle, leader.instance)).admin;
      const kept = await replication.keptReplicas(leader.instance.spec.port, admin);
      // Members read after the slots: a replica created meanwhile made its Instance before its slot, so it is never taken for departed.
      const current = await this.#members(handle);
      for (const name of departedReplicas(handle.cluster, handle.component, kept, current, (instance) => replication.replicaName(instance))) {
        await replication.forgetReplica(leader.instance.spec.port, admin, name);
        await this.#services.events.record(handle.cluster, "Normal", "ReplicaForgotten", `${leader.name} no longer keeps WAL for ${name}, which is not a member any more (its replication slot was dropped)`);
      }
      this.#checked.set(key, { members: names.join(","), at: Date.now() });
    } catch (error) {
      await this.#services.events.record(handle.cluster, "Warning", "ReplicaNotForgotten", `cannot drop the replication slots of removed replicas on ${leader.name}: ${errorMessage(error)}`);
    }
  }

  /** The names of the component's instances as stored now (not being deleted). */
  async #members(handle: ComponentHandle): Promise<string[]> {
    const namespace = handle.cluster.metadata.namespace ?? "default";
    const listed = await this.#services.store.list<Instance>("Instance", { namespace, labelSelector: `${LABEL_INSTANCE}=${handle.cluster.metadata.name}` });
    const owned = listed.items.filter((i) => (i.metadata.ownerReferences ?? []).some((o) => o.uid === handle.cluster.metadata.uid));
    return componentMembers(owned, handle.component).map((i) => i.metadata.name);
  }
}
