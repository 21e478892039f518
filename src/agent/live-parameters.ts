/** The live (dynamic) parameters an instance's spec asks its running server to have, and those to reset (pure). */
import { instanceLiveConfigHash, type Instance, type InstanceStatus } from "../api/index.ts";

/** What to set and what to reset on the running server of `instance`. */
export function liveParameterChange(instance: Instance): { set: Record<string, string>; removed: string[] } {
  const names = instance.spec.liveParameters ?? [];
  const set = Object.fromEntries(names.flatMap((name) => (instance.spec.parameters[name] === undefined ? [] : [[name, instance.spec.parameters[name]] as const])));
  const removed = (instance.status?.appliedLiveParameters ?? []).filter((name) => !names.includes(name));
  return { set, removed };
}

/** The status fields saying the server has the live parameters of `instance`'s spec (at a start, or once applied). */
export function liveParametersApplied(instance: Instance): Pick<InstanceStatus, "appliedLiveConfig" | "appliedLiveParameters"> {
  return { appliedLiveConfig: instanceLiveConfigHash(instance.spec), appliedLiveParameters: [...(instance.spec.liveParameters ?? [])] };
}
