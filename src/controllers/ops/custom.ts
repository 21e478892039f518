/**
 * Custom (ADR 0054): the OpsDefinition's actions, checked again against the definition as it is now, written into
 * `spec.customAction` of each target instance (the primary, or every instance, of each listed component); each
 * instance's node agent runs them once through its engine and reports in `status.customAction`.
 */
import { now, type Cluster, type Instance, type OpsDefinition, type OpsRequest } from "../../api/index.ts";
import { customSteps } from "../../engines/index.ts";
import { ConflictError } from "../../errors/index.ts";
import { clusterInstances, type OpsHandler, type OpsServices, type OpsStep } from "./handler.ts";
import { customProgress, customRequest, customTargets } from "./custom-plan.ts";
import type { OpsProgress } from "./progress.ts";
import { opsTimeoutSeconds } from "./timeout.ts";

const WRITE_ATTEMPTS = 8;

export class CustomOps implements OpsHandler {
  readonly startsFrom = ["Running", "Updating", "Abnormal"] as const;
  readonly #services: OpsServices;

  constructor(services: OpsServices) {
    this.#services = services;
  }

  async begin(ops: OpsRequest, cluster: Cluster): Promise<OpsStep> {
    const planned = await this.#plan(ops, cluster);
    if ("failure" in planned) return planned;
    for (const { instance, request } of planned) await this.#ask(instance, request);
    return { ops, cluster };
  }

  follow(ops: OpsRequest, _cluster: Cluster, instances: readonly Instance[]): Promise<OpsProgress> {
    return Promise.resolve(customProgress(ops, instances));
  }

  /** Each target instance with the request it is to carry, or why the request cannot run. */
  async #plan(ops: OpsRequest, cluster: Cluster): Promise<{ instance: Instance; request: ReturnType<typeof customRequest> }[] | { failure: string }> {
    const custom = ops.spec.custom;
    if (custom === undefined) return { failure: "spec.custom is required for a Custom OpsRequest" };
    const definition = await this.#services.store.get<OpsDefinition>({ kind: "OpsDefinition", name: custom.opsDefinitionName });
    if (definition === undefined) return { failure: `OpsDefinition ${custom.opsDefinitionName} not found` };
    const instances = await clusterInstances(this.#services.store, cluster);
    const planned: { instance: Instance; request: ReturnType<typeof customRequest> }[] = [];
    const requestedAt = now();
    for (const item of custom.items) {
      const members = instances.filter((i) => i.spec.componentName === item.componentName);
      const engine = this.#services.engines.find(members[0]?.spec.engine ?? "");
      if (engine === undefined) return { failure: `component ${item.componentName} has no instances` };
      const steps = customSteps(definition, engine, item.parameters ?? []);
      if (steps.problems.length > 0) return { failure: `component ${item.componentName}: ${steps.problems.map((p) => `${p.field}: ${p.message}`).join("; ")}` };
      const targets = customTargets(item.componentName, members, steps.scope);
      if ("failure" in targets) return targets;
      const request = customRequest(ops, steps.steps, opsTimeoutSeconds(ops), requestedAt);
      planned.push(...targets.map((instance) => ({ instance, request })));
    }
    return planned;
  }

  /** Write the request into the instance's spec (the latest version; unchanged when it already carries it). */
  async #ask(instance: Instance, request: ReturnType<typeof customRequest>): Promise<void> {
    const ref = { kind: "Instance", namespace: instance.metadata.namespace ?? "default", name: instance.metadata.name };
    for (let attempt = 1; ; attempt++) {
      const current = await this.#services.store.get<Instance>(ref);
      if (current === undefined || current.spec.customAction?.id === request.id) return;
      try {
        await this.#services.store.update<Instance>({ ...current, spec: { ...current.spec, customAction: request } });
        return;
      } catch (error) {
        if (!(error instanceof ConflictError) || attempt >= WRITE_ATTEMPTS) throw error;
      }
    }
  }
}
