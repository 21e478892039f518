/**
 * The ha controller's part for components whose engine brings arbiters (Redis Sentinel). The arbiters decide who
 * is primary and fail over by themselves; this follows what a majority of them says into the Cluster's record,
 * the members' specs, role labels, lag and the endpoints, carries out Switchover requests by asking them, and
 * lets a primary that stopped start again only once they replaced it (it then starts as a replica) or evidently
 * will not (it restarts in place). It never promotes or fences anything itself.
 */
import { now, type Cluster, type ComponentReplicationStatus, type Instance, type RoleChange } from "../../api/index.ts";
import { errorMessage } from "../../errors/index.ts";
import type { ArbiterGroup, EngineArbiter } from "../../engines/index.ts";
import { arbiterGroup, arbiterPair } from "../../agent/index.ts";
import { arbiterFailover, arbitratedSpecDiffers, arbitratedSpecs, followArbiters, releasable, requestedSwitchover } from "./arbiter-plan.ts";
import type { ClusterEndpoints } from "./endpoints.ts";
import { clusterRef, instanceRef, type ComponentHandle, type HaServices } from "./members.ts";
import { writeReplicationStatus, writeRoleLabel } from "./member-status.ts";
import { patchObject, patchStatus } from "./patch.ts";
import { keptReplicationFields, lagUpdates, recordOf, roleLabelUpdates, routesFor, type ComponentView, type Member } from "./plan.ts";
import { memberOf } from "./member-view.ts";
import type { HaSettings } from "./settings.ts";

/** One pass over one arbitrated component. */
interface Pass {
  handle: ComponentHandle;
  arbiter: EngineArbiter;
  group: ArbiterGroup;
  settings: HaSettings;
}

export class ArbitratedComponents {
  readonly #o: HaServices & { endpoints: ClusterEndpoints };
  readonly #reported = new Map<string, string>();

  constructor(options: HaServices & { endpoints: ClusterEndpoints }) {
    this.#o = options;
  }

  /** Follow the arbiters of `handle`'s component for one pass; when to look again (ms). */
  async reconcile(handle: ComponentHandle, instances: readonly Instance[], settings: HaSettings): Promise<number> {
    const arbiter = handle.replication.arbiter;
    const pair = arbiterPair(handle.cluster, handle.engine, handle.component);
    if (arbiter === undefined || pair === undefined) return settings.probePeriodMs;
    const group = await arbiterGroup(this.#o.store, handle.cluster, handle.engine, pair);
    if (typeof group === "string") {
      await this.#reportOnce(handle, "ArbitersNotReady", group);
      return settings.probePeriodMs;
    }
    const pass: Pass = { handle, arbiter, group, settings };
    const switchover = requestedSwitchover(recordOf(handle.cluster, handle.component));
    if (switchover !== undefined) {
      await this.#switchover(pass, switchover.from, switchover.to);
      return 0;
    }
    await this.#follow(pass, instances);
    return settings.probePeriodMs;
  }

  async #follow(pass: Pass, instances: readonly Instance[]): Promise<void> {
    const { handle, arbiter, group } = pass;
    // What the node agents report; the arbiters, not probe failures, decide about a primary that stopped answering.
    const members = instances.filter((i) => group.members.some((m) => m.name === i.metadata.name)).map((i) => ({ ...memberOf(i), failures: 0 }));
    const agreed = await arbiter.agreedPrimary(group);
    const primary = await this.#record(pass, agreed);
    if (agreed !== undefined) await this.#forgetDeparted(pass);
    const view: ComponentView = { cluster: handle.cluster, component: handle.component, members, settings: pass.settings, nowMs: Date.now(), rank: (c) => handle.replication.rankCandidates(c) };
    const routes = routesFor(view, { kind: "steady", primary });
    await this.#o.endpoints.route(handle.cluster, handle.component, routes);
    for (const desired of arbitratedSpecs(members, primary)) {
      const member = members.find((m) => m.name === desired.name);
      if (member !== undefined && arbitratedSpecDiffers(member.instance, desired)) await this.#applySpec(handle, desired);
    }
    for (const member of members) if (releasable(member, agreed, arbiter.failoverWindowMs, view.nowMs)) await this.#release(handle, member, agreed);
    for (const { name, role } of roleLabelUpdates(view)) await writeRoleLabel(this.#o.store, instanceRef(handle.cluster, name), role);
    for (const { name, replication } of lagUpdates(view, primary, (instance) => instance)) await writeReplicationStatus(this.#o.store, instanceRef(handle.cluster, name), replication);
  }

  /** Members removed by a scale-in are forgotten by the arbiters too (they would watch them, down, for ever). */
  async #forgetDeparted(pass: Pass): Promise<void> {
    const forgot = await pass.arbiter.forgetDeparted(pass.group);
    if (forgot !== undefined) await this.#o.events.record(pass.handle.cluster, "Normal", "ArbitersUpdated", forgot);
  }


  /** Bring the record in line with the arbiters; the primary to work with. */
  async #record(pass: Pass, agreed: string | undefined): Promise<string> {
    const { handle, group } = pass;
    const change = followArbiters(recordOf(handle.cluster, handle.component), agreed, group.lastKnownPrimary);
    if (change.kind === "initialise") await this.#writeRecord(handle, (r) => (r.currentPrimary === undefined ? { currentPrimary: change.primary, targetPrimary: change.primary } : undefined));
    if (change.kind === "followArbiters") {
      const roleChange = arbiterFailover(change.from, change.primary, group.arbiters.length, now());
      await this.#writeRecord(handle, (r) => (r.currentPrimary !== change.from || r.targetPrimary !== change.from ? undefined : { currentPrimary: change.primary, targetPrimary: change.primary, roleChange }));
      await this.#o.events.record(handle.cluster, "Normal", "FailedOver", roleChange.message ?? "");
    }
    return change.primary;
  }

  /** Ask the arbiters to move the primary to `to`; record the outcome (a failure leaves whatever they agree on). */
  async #switchover(pass: Pass, from: string, to: string): Promise<void> {
    const { handle, arbiter, group } = pass;
    const started = performance.now();
    // Writes wait on the old primary itself while the candidate catches up; new connections wait from the promotion on.
    // A hold that cannot be recorded leaves new connections on the old master, whose writes are paused meanwhile.
    let holding: Promise<void> = Promise.resolve();
    const hold = (): void => {
      holding = this.#o.endpoints.hold(handle.cluster, handle.component).catch(() => undefined);
    };
    try {
      // A control plane restarted after the arbiters promoted `to` only records it.
      const done = (await arbiter.agreedPrimary(group)) === to ? { primary: to, writesPausedMs: 0 } : await arbiter.switchover(group, from, to, hold);
      await holding;
      const promoted = await this.#o.store.get<Instance>(instanceRef(handle.cluster, done.primary));
      if (promoted !== undefined) await this.#o.endpoints.routeReadWrite(handle.cluster, handle.component, promoted);
      const message = `${done.primary} is primary ${Math.round(performance.now() - started)} ms after the switchover began (writes on ${from} paused ${done.writesPausedMs} ms); ${from} replicates from it`;
      await this.#finish(handle, done.primary, { result: "Succeeded", message });
      await this.#o.events.record(handle.cluster, "Normal", "SwitchedOver", message);
    } catch (error) {
      const primary = (await arbiter.agreedPrimary(group)) ?? from;
      const message = `switchover from ${from} to ${to} failed: ${errorMessage(error)}; ${primary} is primary`;
      await this.#finish(handle, primary, { result: "Failed", message });
      await this.#o.events.record(handle.cluster, "Warning", "SwitchoverFailed", message);
    }
  }

  async #finish(handle: ComponentHandle, primary: string, outcome: Pick<RoleChange, "result" | "message">): Promise<void> {
    await this.#writeRecord(handle, (r) => ({ currentPrimary: primary, targetPrimary: primary, ...(r.roleChange === undefined ? {} : { roleChange: { ...r.roleChange, ...outcome, finishedAt: now() } }) }));
  }

  async #release(handle: ComponentHandle, member: Member, agreed: string | undefined): Promise<void> {
    const heldSince = member.instance.status?.replicationState?.heldSince;
    await patchObject<Instance>(this.#o.store, instanceRef(handle.cluster, member.name), (current) => {
      const { fenced, ...rest } = current.spec.replication ?? {};
      const release = heldSince !== undefined && rest.restartAfterExit !== heldSince;
      if (fenced !== true && !release) return undefined;
      return { ...current, spec: { ...current.spec, replication: release ? { ...rest, restartAfterExit: heldSince } : rest } };
    });
    const how = agreed !== undefined && agreed !== member.name ? `it starts as a replica of ${agreed}` : "the arbiters did not replace it: it restarts in place";
    await this.#o.events.record(handle.cluster, "Normal", "Released", `${member.name} may start again: ${how}`);
  }

  async #applySpec(handle: ComponentHandle, desired: ReturnType<typeof arbitratedSpecs>[number]): Promise<void> {
    await patchObject<Instance>(this.#o.store, instanceRef(handle.cluster, desired.name), (current) => {
      const wanted = { ...desired, replication: { ...keptReplicationFields(current), ...desired.replication, ...(current.spec.replication?.fenced === true ? { fenced: true } : {}) } };
      return arbitratedSpecDiffers(current, wanted) ? { ...current, spec: { ...current.spec, role: wanted.role, replication: wanted.replication } } : undefined;
    });
  }

  async #writeRecord(handle: ComponentHandle, change: (record: ComponentReplicationStatus) => Partial<ComponentReplicationStatus> | undefined): Promise<void> {
    await patchStatus<Cluster>(this.#o.store, clusterRef(handle.cluster), (cluster) => {
      const record = cluster.status?.replication?.[handle.component] ?? {};
      const next = change(record);
      if (next === undefined) return undefined;
      return { ...cluster, status: { ...cluster.status, replication: { ...cluster.status?.replication, [handle.component]: { ...record, ...next } } } };
    });
  }

  async #reportOnce(handle: ComponentHandle, reason: string, message: string): Promise<void> {
    const key = `${handle.cluster.metadata.uid ?? ""}/${handle.component}`;
    if (this.#reported.get(key) === message) return;
    this.#reported.set(key, message);
    await this.#o.events.record(handle.cluster, "Warning", reason, message);
  }
}
