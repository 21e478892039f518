/**
 * Custom (ADR 0054), the pure half: which instances of each listed component run the definition's actions (the
 * primary, when any action runs there alone; else every instance, each ready), and how far they have come, judged
 * from each Instance: `spec.customAction` is what was asked (its id, the request's token), `status.customAction`
 * what its node agent did.
 */
import type { CustomActionRequest, Instance, OpsRequest, ProgressDetail } from "../../api/index.ts";
import type { CustomSteps } from "../../engines/index.ts";
import { restartToken, type OpsProgress } from "./progress.ts";

/** The id a request's instances carry: unique per OpsRequest. */
export function customToken(ops: OpsRequest): string {
  return restartToken(ops);
}

/** The instances of `component` that run `steps`, or why it cannot run now. */
export function customTargets(component: string, members: readonly Instance[], scope: CustomSteps["scope"]): Instance[] | { failure: string } {
  if (members.length === 0) return { failure: `component ${component} has no instances` };
  const chosen = scope === "primary" ? members.filter((i) => (i.status?.role ?? i.spec.role) === "primary") : [...members];
  if (chosen.length === 0) return { failure: `component ${component} has no primary to run the actions on (they run on the primary alone)` };
  const down = chosen.find((i) => i.status?.ready !== true);
  if (down !== undefined) return { failure: `instance ${down.metadata.name} is not ready (${down.status?.phase ?? "Pending"}): actions run on running instances; try again once the cluster is Running` };
  return chosen;
}

/** The request written on each target instance (pure). */
export function customRequest(ops: OpsRequest, steps: CustomSteps["steps"], timeoutSeconds: number, requestedAt: string): CustomActionRequest {
  return { id: customToken(ops), opsRequest: `${ops.metadata.namespace ?? "default"}/${ops.metadata.name}`, steps, timeoutSeconds, requestedAt };
}

function detail(instance: Instance, requestId: string): ProgressDetail {
  const base = { group: instance.spec.componentName, objectKey: `Instance/${instance.metadata.name}` };
  const seen = instance.status?.customAction;
  if (seen?.id !== requestId) return { ...base, status: "Pending", message: "waiting for its node agent" };
  if (seen.result === "Running") return { ...base, status: "Processing", message: seen.message ?? "running" };
  return { ...base, status: seen.result === "Succeeded" ? "Succeed" : "Failed", ...(seen.message === undefined ? {} : { message: seen.message }) };
}

/** How far the request has come on the instances that carry it. */
export function customProgress(ops: OpsRequest, instances: readonly Instance[]): OpsProgress {
  const requestId = customToken(ops);
  const targets = instances.filter((i) => i.spec.customAction?.id === requestId);
  const details = targets.map((i) => detail(i, requestId)).sort((a, b) => a.objectKey.localeCompare(b.objectKey));
  const done = details.filter((d) => d.status === "Succeed").length;
  const failed = details.find((d) => d.status === "Failed");
  const pending = details.find((d) => d.status === "Pending" || d.status === "Processing");
  return {
    done,
    total: targets.length,
    finished: targets.length > 0 && done === targets.length,
    details,
    ...(targets.length === 0 ? { failure: "no instance carries the request any more (deleted or recreated)" } : {}),
    ...(failed === undefined ? {} : { failure: `${failed.objectKey}: ${failed.message ?? "failed"}` }),
    ...(pending === undefined ? {} : { waitingFor: `${pending.objectKey} (${pending.message ?? pending.status})` }),
  };
}
