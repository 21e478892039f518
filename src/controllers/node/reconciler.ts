/** The node lifecycle controller: reads a Node and the instances bound to it, plans (plan.ts), writes conditions. */
import { NODE_GRACE_PERIOD_MS, type Instance, type Node } from "../../api/index.ts";
import type { Store } from "../../store/index.ts";
import { setCondition, splitKey, type EventRecorder, type ReconcileResult, type Reconciler } from "../runtime/index.ts";
import { planNodeLifecycle } from "./plan.ts";

export interface NodeLifecycleOptions {
  store: Store;
  events: EventRecorder;
  /** How old a heartbeat may get (default NODE_GRACE_PERIOD_MS). */
  gracePeriodMs?: number;
  now?: () => number;
}

export class NodeLifecycleReconciler implements Reconciler {
  readonly #o: NodeLifecycleOptions;

  constructor(options: NodeLifecycleOptions) {
    this.#o = options;
  }

  async reconcile(key: string): Promise<ReconcileResult | undefined> {
    const { name } = splitKey(key);
    const node = await this.#o.store.get<Node>({ kind: "Node", name });
    if (node === undefined) return undefined;
    const instances = (await this.#o.store.list<Instance>("Instance")).items;
    const plan = planNodeLifecycle(node, instances, (this.#o.now ?? Date.now)(), this.#o.gracePeriodMs ?? NODE_GRACE_PERIOD_MS);
    if (plan.nodeCondition !== undefined) {
      const updated = await this.#o.store.updateStatus<Node>({ ...node, status: { ...node.status, conditions: setCondition(node.status?.conditions, plan.nodeCondition) } });
      await this.#o.events.record(updated, "Warning", "NodeNotReady", `node ${name} is not Ready: ${plan.nodeCondition.message}`);
    }
    for (const { instance, condition } of plan.instances) {
      await this.#o.store.updateStatus<Instance>({ ...instance, status: { ...instance.status, conditions: setCondition(instance.status?.conditions, condition) } });
      if (condition.status === "False") await this.#o.events.record(instance, "Warning", "NodeNotReady", condition.message);
    }
    return plan.requeueAfterMs === undefined ? undefined : { requeueAfterMs: plan.requeueAfterMs };
  }
}

/** The keys a change to an instance wakes: the node it is bound to. */
export function boundNodeKeys(object: { spec?: unknown }): string[] {
  const nodeName = (object.spec as Instance["spec"] | undefined)?.nodeName;
  return nodeName === undefined ? [] : [nodeName];
}
