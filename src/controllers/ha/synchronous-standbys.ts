/**
 * Keeps the durability mode of a replicated component in every member's spec (the quorum list changes as members
 * come and go, and after every role change; each node agent applies it to its running instance), and reports what
 * users must know: a quorum that does not stream (commits wait), a lowered quorum, an engine that cannot commit
 * synchronously.
 */
import type { Instance, ReplicationDurabilitySpec } from "../../api/index.ts";
import { instanceRef, type ComponentHandle, type HaServices } from "./members.ts";
import { patchObject } from "./patch.ts";
import type { Member } from "./plan.ts";
import { planDurability, quorumShortfall, synchronousFailoverBlock, type DurabilityPlan } from "./synchronous-plan.ts";

export class SynchronousStandbys {
  readonly #services: HaServices;
  /** Per component and topic: the message last reported, so each is reported once. */
  readonly #reported = new Map<string, string>();
  /** Components whose primary was last seen with too few synchronous replicas streaming. */
  readonly #short = new Set<string>();

  constructor(services: HaServices) {
    this.#services = services;
  }

  /** The durability around `primary`; asynchronous for engines that cannot wait for replicas. */
  plan(handle: ComponentHandle, members: readonly Member[], primary: string): DurabilityPlan {
    const plan = planDurability(handle.cluster, members.map((m) => m.name), primary);
    if (plan.durability.mode === "asynchronous" || handle.replication.configureDurability !== undefined) return plan;
    return { durability: { mode: "asynchronous" }, standbys: plan.standbys, warning: `${handle.engine.name} cannot commit synchronously: its replication stays asynchronous` };
  }

  /** Why a failover from `from` to one of `candidates` could lose an acknowledged commit, if it could. */
  failoverBlock(handle: ComponentHandle, members: readonly Member[], from: string, candidates: readonly string[]): string | undefined {
    return synchronousFailoverBlock(this.plan(handle, members, from), candidates);
  }

  /** Write the durability around `primary` into every member's spec, and report what changed for users. */
  async apply(handle: ComponentHandle, members: readonly Member[], primary: string): Promise<void> {
    const plan = this.plan(handle, members, primary);
    await this.#report(handle, "warning", plan.warning === undefined ? undefined : { type: "Warning", reason: "SynchronousCommit", message: plan.warning });
    if (handle.replication.configureDurability === undefined) return;
    const durability: ReplicationDurabilitySpec = { ...plan.durability, standbys: plan.standbys };
    const wanted = JSON.stringify(durability);
    for (const member of members) {
      if (JSON.stringify(member.instance.spec.replication?.durability) === wanted) continue;
      await patchObject<Instance>(this.#services.store, instanceRef(handle.cluster, member.name), (current) =>
        JSON.stringify(current.spec.replication?.durability) === wanted ? undefined : { ...current, spec: { ...current.spec, replication: { ...current.spec.replication, durability } } },
      );
    }
    await this.#reportQuorum(handle, plan, members, primary);
  }

  /** A quorum that stopped streaming (commits wait) is reported once, and again when it streams once more. */
  async #reportQuorum(handle: ComponentHandle, plan: DurabilityPlan, members: readonly Member[], primary: string): Promise<void> {
    const seen = members.find((m) => m.name === primary)?.observation;
    if (seen?.role !== "primary") return;
    const shortfall = quorumShortfall(plan, primary, seen, (instance) => handle.replication.replicaName(instance));
    const key = this.#key(handle, "quorum");
    if (shortfall !== undefined) {
      this.#short.add(key);
      await this.#report(handle, "quorum", { type: "Warning", reason: "SynchronousQuorumLost", message: shortfall });
    } else if (this.#short.delete(key)) {
      await this.#report(handle, "quorum", { type: "Normal", reason: "SynchronousQuorumRestored", message: `commits on ${primary} are acknowledged again: enough synchronous replicas stream` });
    }
  }

  async #report(handle: ComponentHandle, topic: string, event: { type: "Normal" | "Warning"; reason: string; message: string } | undefined): Promise<void> {
    const key = this.#key(handle, topic);
    if (event === undefined) {
      this.#reported.delete(key);
      return;
    }
    if (this.#reported.get(key) === event.message) return;
    this.#reported.set(key, event.message);
    await this.#services.events.record(handle.cluster, event.type, event.reason, event.message);
  }

  #key(handle: ComponentHandle, topic: string): string {
    return `${handle.cluster.metadata.uid ?? handle.cluster.metadata.name}/${handle.component}/${topic}`;
  }
}
