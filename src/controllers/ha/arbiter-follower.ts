/**
 * The ha controller's part for components whose engine brings arbiters (Redis Sentinel). The arbiters decide who
 * is primary and fail over by themselves; their node agents report what each names (status.arbiterState), and this
 * follows what a majority names into the Cluster's record, the members' specs, role labels, lag and the endpoints.
 * It carries out Switchover requests and the forgetting of removed members by asking one arbiter's node agent
 * (spec.arbiterRequest) and following its report, and lets a primary that stopped start again only once they
 * replaced it (it then starts as a replica) or evidently will not (it restarts in place). It never talks to an
 * arbiter or a member, and never promotes or fences anything itself (ADR 0024).
 */
import { now, type ArbiterRequest, type Cluster, type ComponentReplicationStatus, type Instance, type RoleChange } from "../../api/index.ts";
import type { EngineArbiter } from "../../engines/index.ts";
import { arbiterInstances, arbiterPair } from "../../agent/index.ts";
import { primaryOf } from "../cluster/index.ts";
import { arbiterFailover, arbitratedSpecDiffers, arbitratedSpecs, followArbiters, releasable, requestedSwitchover } from "./arbiter-plan.ts";
import { agreedPrimary, arbiterSwitchoverStep, forgetRequest, switchoverRequestId, type ArbiterSwitchoverStep } from "./arbiter-reports.ts";
import type { ClusterEndpoints } from "./endpoints.ts";
import { clusterRef, instanceRef, type ComponentHandle, type HaServices } from "./members.ts";
import { writeReplicationStatus, writeRoleLabel } from "./member-status.ts";
import { patchObject, patchStatus } from "./patch.ts";
import { keptReplicationFields, lagUpdates, recordOf, roleLabelUpdates, routesFor, type ComponentView, type Member } from "./plan.ts";
import { memberOf } from "./member-view.ts";
import type { HaSettings } from "./settings.ts";

/** While a switchover waits for an arbiter's agent, look again this often (its reports wake the controller sooner). */
const SWITCHOVER_POLL_MS = 500;

/** One pass over one arbitrated component. */
interface Pass {
  handle: ComponentHandle;
  arbiter: EngineArbiter;
  /** The arbitrated component's instances, and the arbiters' (by ordinal). */
  members: Instance[];
  arbiters: Instance[];
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
    const found = arbiterInstances(handle.cluster, pair, instances);
    if (typeof found === "string") {
      await this.#reportOnce(handle, "ArbitersNotReady", found);
      return settings.probePeriodMs;
    }
    const byOrdinal = (list: Instance[]): Instance[] => list.sort((a, b) => a.spec.ordinal - b.spec.ordinal);
    const pass: Pass = { handle, arbiter, members: byOrdinal(found.members), arbiters: byOrdinal(found.arbiters), settings };
    const switchover = requestedSwitchover(recordOf(handle.cluster, handle.component));
    if (switchover !== undefined) return this.#switchover(pass, switchover.from, switchover.to);
    await this.#follow(pass);
    return settings.probePeriodMs;
  }

  async #follow(pass: Pass): Promise<void> {
    const { handle, arbiter } = pass;
    // What the node agents report; the arbiters, not probe failures, decide about a primary that stopped answering.
    const members = pass.members.map((i) => ({ ...memberOf(i), failures: 0 }));
    const nowMs = Date.now();
    const agreed = agreedPrimary(pass.arbiters, pass.arbiters.length, nowMs);
    const primary = await this.#record(pass, agreed);
    if (agreed !== undefined) await this.#forgetDeparted(pass, nowMs);
    const view: ComponentView = { cluster: handle.cluster, component: handle.component, members, settings: pass.settings, nowMs, rank: (c) => handle.replication.rankCandidates(c) };
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

  /** Members removed by a scale-in are forgotten by the arbiters too (they would watch them, down, for ever): one arbiter at a time. */
  async #forgetDeparted(pass: Pass, nowMs: number): Promise<void> {
    const next = forgetRequest(pass.arbiters, nowMs);
    if (next !== undefined) await this.#ask(pass.handle, next.arbiter, next.request);
  }

  /** Bring the record in line with the arbiters; the primary to work with. */
  async #record(pass: Pass, agreed: string | undefined): Promise<string> {
    const { handle } = pass;
    const initial = primaryOf(handle.cluster, { name: handle.component, replicated: true }, pass.members);
    const change = followArbiters(recordOf(handle.cluster, handle.component), agreed, initial);
    if (change.kind === "initialise") await this.#writeRecord(handle, (r) => (r.currentPrimary === undefined ? { currentPrimary: change.primary, targetPrimary: change.primary } : undefined));
    if (change.kind === "followArbiters") {
      const roleChange = arbiterFailover(change.from, change.primary, pass.arbiters.length, now());
      await this.#writeRecord(handle, (r) => (r.currentPrimary !== change.from || r.targetPrimary !== change.from ? undefined : { currentPrimary: change.primary, targetPrimary: change.primary, roleChange }));
      await this.#o.events.record(handle.cluster, "Normal", "FailedOver", roleChange.message ?? "");
    }
    return change.primary;
  }

  /**
   * One step of a switchover to `to`: ask the arbiter whose agent will carry it out, hold the read-write endpoint
   * once it promotes, route to the new primary, and record the outcome once a majority names it (a failure leaves
   * whatever they agree on); when to look again.
   */
  async #switchover(pass: Pass, from: string, to: string): Promise<number> {
    const { handle } = pass;
    const id = switchoverRequestId(recordOf(handle.cluster, handle.component), from, to);
    const members = pass.members.map((m) => m.metadata.name);
    const step = arbiterSwitchoverStep({ from, to, id, members, arbiters: pass.arbiters, arbiterCount: pass.arbiters.length, nowMs: Date.now() });
    switch (step.kind) {
      case "request":
        await this.#ask(handle, step.arbiter, step.request);
        return SWITCHOVER_POLL_MS;
      case "wait":
        return SWITCHOVER_POLL_MS;
      case "promoting":
        // Writes wait on the old primary itself while the candidate catches up; new connections wait from the promotion on.
        // A hold that cannot be recorded leaves new connections on the old master, whose writes are paused meanwhile.
        await this.#o.endpoints.hold(handle.cluster, handle.component).catch(() => undefined);
        return SWITCHOVER_POLL_MS;
      case "promoted":
        await this.#routeTo(pass, step.primary);
        return SWITCHOVER_POLL_MS;
      case "finish":
        await this.#switchedOver(pass, step);
        return 0;
    }
  }

  async #switchedOver(pass: Pass, step: Extract<ArbiterSwitchoverStep, { kind: "finish" }>): Promise<void> {
    if (step.result === "Succeeded") await this.#routeTo(pass, step.primary);
    await this.#finish(pass.handle, step.primary, { result: step.result, message: step.message });
    await this.#o.events.record(pass.handle.cluster, step.result === "Succeeded" ? "Normal" : "Warning", step.result === "Succeeded" ? "SwitchedOver" : "SwitchoverFailed", step.message);
  }

  async #routeTo(pass: Pass, primary: string): Promise<void> {
    const promoted = pass.members.find((m) => m.metadata.name === primary);
    if (promoted !== undefined) await this.#o.endpoints.routeReadWrite(pass.handle.cluster, pass.handle.component, promoted);
  }

  /** Write `request` on the arbiter `name` for its node agent, unless it is already there. */
  async #ask(handle: ComponentHandle, name: string, request: ArbiterRequest): Promise<void> {
    await patchObject<Instance>(this.#o.store, instanceRef(handle.cluster, name), (current) => (current.spec.arbiterRequest?.id === request.id ? undefined : { ...current, spec: { ...current.spec, arbiterRequest: request } }));
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
