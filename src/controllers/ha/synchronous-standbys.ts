/**
 * Keeps the durability mode of a replicated component applied on every running member (the quorum list changes
 * as members come and go, and after every role change), and reports what users must know: a quorum that does
 * not stream (commits wait), a lowered quorum, an engine that cannot commit synchronously.
 */
import { errorMessage } from "../../errors/index.ts";
import { contextOf, credentialsOf, type ComponentHandle, type HaServices } from "./members.ts";
import { isFencedMember, observedRole, type Member } from "./plan.ts";
import { planDurability, quorumShortfall, synchronousFailoverBlock, type DurabilityPlan } from "./synchronous-plan.ts";

export class SynchronousStandbys {
  readonly #services: HaServices;
  /** Per instance: the process and plan last applied, so a plan is written once per process. */
  readonly #applied = new Map<string, string>();
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

  /** Apply the durability around `primary` to every running member, and report what changed for users. */
  async apply(handle: ComponentHandle, members: readonly Member[], primary: string): Promise<void> {
    const plan = this.plan(handle, members, primary);
    await this.#report(handle, "warning", plan.warning === undefined ? undefined : { type: "Warning", reason: "SynchronousCommit", message: plan.warning });
    const replication = handle.replication;
    if (replication.configureDurability === undefined) return;
    const token = JSON.stringify([plan.durability, plan.standbys]);
    for (const member of members) {
      const pid = member.instance.status?.pid;
      if (pid === undefined || observedRole(member) === undefined || isFencedMember(member)) continue;
      const key = member.instance.metadata.uid ?? member.name;
      if (this.#applied.get(key) === `${pid}|${token}`) continue;
      try {
        const credentials = await credentialsOf(this.#services, handle, member.instance);
        await replication.configureDurability(await contextOf(this.#services, handle.engine, member.instance), plan.durability, plan.standbys, credentials.admin, await this.#services.users.hostOf(member.instance));
        this.#applied.set(key, `${pid}|${token}`);
      } catch (error) {
        await this.#services.events.record(handle.cluster, "Warning", "DurabilityNotApplied", `${member.name}: ${errorMessage(error)}`);
      }
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
