/**
 * The node lifecycle controller's plan (pure): a Node whose heartbeat is older than the grace period is marked
 * `Ready=False` (NodeStatusUnknown), and the instances bound to it say so in their `NodeReady` condition; when the
 * heartbeat resumes, the agent marks the Node Ready again and the instances' condition is set back to True. No
 * instance is moved or failed over here: that comes with databases on several machines (ADR 0020).
 */
import { isNodeReady, NODE_READY, NODE_STATUS_UNKNOWN, nodeReadyCondition, type Condition, type Instance, type Node } from "../../api/index.ts";

/** The type of the condition an instance carries once its node stopped posting heartbeats. */
export const INSTANCE_NODE_READY = "NodeReady";

/** A condition to set, its transition time left to the writer. */
export type ConditionChange = Omit<Condition, "lastTransitionTime">;

export interface NodeLifecyclePlan {
  /** The Node's Ready=False, when its heartbeat is too old and it does not say so yet. */
  nodeCondition?: ConditionChange;
  /** Instances bound to the node whose NodeReady condition changes. */
  instances: { instance: Instance; condition: ConditionChange }[];
  /** When to look again: the moment the current heartbeat would be too old. */
  requeueAfterMs?: number;
}

/** When the node last showed life: its heartbeat, else when it was registered. */
function lastHeartbeatMs(node: Node): number {
  return Date.parse(node.status?.heartbeatTime ?? node.metadata.creationTimestamp ?? "") || 0;
}

/** Work out what changes for `node`, at `nowMs`, with `graceMs` of grace. */
export function planNodeLifecycle(node: Node, instances: readonly Instance[], nowMs: number, graceMs: number): NodeLifecyclePlan {
  const name = node.metadata.name;
  const last = lastHeartbeatMs(node);
  const bound = instances.filter((i) => i.spec.nodeName === name && i.metadata.deletionTimestamp === undefined);
  if (nowMs - last <= graceMs) {
    const requeueAfterMs = last + graceMs - nowMs + 1;
    if (!isNodeReady(node)) return { instances: [], requeueAfterMs };
    const recovered: ConditionChange = { type: INSTANCE_NODE_READY, status: "True", reason: "NodeReady", message: `node ${name} is Ready` };
    return { instances: bound.filter((i) => instanceNodeCondition(i)?.status === "False").map((instance) => ({ instance, condition: recovered })), requeueAfterMs };
  }
  const since = node.status?.heartbeatTime === undefined ? "it never posted one" : `the last was at ${node.status.heartbeatTime}`;
  const message = `the node agent stopped posting heartbeats: ${since}, more than the grace period of ${Math.round(graceMs / 1000)} s ago`;
  const notReady: ConditionChange = { type: NODE_READY, status: "False", reason: NODE_STATUS_UNKNOWN, message };
  const instanceCondition: ConditionChange = { type: INSTANCE_NODE_READY, status: "False", reason: "NodeNotReady", message: `node ${name} is not Ready: ${message}; the instance's state is unknown` };
  const current = nodeReadyCondition(node);
  return {
    ...(current?.status === "False" && current.message === message ? {} : { nodeCondition: notReady }),
    instances: bound.filter((i) => !sameCondition(instanceNodeCondition(i), instanceCondition)).map((instance) => ({ instance, condition: instanceCondition })),
  };
}

/** The instance's NodeReady condition, if any. */
export function instanceNodeCondition(instance: Instance): Condition | undefined {
  return instance.status?.conditions?.find((c) => c.type === INSTANCE_NODE_READY);
}

function sameCondition(current: Condition | undefined, wanted: ConditionChange): boolean {
  return current !== undefined && current.status === wanted.status && current.reason === wanted.reason && current.message === wanted.message;
}
