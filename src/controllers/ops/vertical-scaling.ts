/**
 * VerticalScaling: each listed component gets the requests and limits given (each replaced when given, as KubeBlocks
 * does). The engines size their memory parameters from `limits.memory`; the cluster controller rolls the new parameters
 * out one instance at a time, replicas first, then a switchover, then the former primary (cluster/rollout.ts).
 * Cancel puts the resources recorded in `status.lastConfiguration` back: instances not restarted yet keep theirs,
 * restarted ones roll back the same way.
 */
import type { Cluster, ComponentSpec, Instance, OpsRequest, ResourceRequirements, VerticalScalingSpec } from "../../api/index.ts";
import { desiredParameters } from "../cluster/index.ts";
import type { OpsHandler, OpsServices, OpsStep } from "./handler.ts";
import type { OpsProgress } from "./progress.ts";
import { rolloutProgress } from "./rollout-progress.ts";

/** The resources of a component after the scaling entry. */
export function scaledResources(current: ResourceRequirements | undefined, entry: VerticalScalingSpec): ResourceRequirements {
  return { ...current, ...(entry.requests === undefined ? {} : { requests: entry.requests }), ...(entry.limits === undefined ? {} : { limits: entry.limits }) };
}

/** Why the request cannot be carried out on `cluster`, if it cannot. */
export function verticalScalingProblem(ops: OpsRequest, cluster: Cluster): string | undefined {
  const entries = ops.spec.verticalScaling ?? [];
  if (entries.length === 0) return "spec.verticalScaling lists no component";
  const names = cluster.spec.componentSpecs.map((c) => c.name);
  const unknown = entries.find((e) => !names.includes(e.componentName));
  if (unknown !== undefined) return `component ${unknown.componentName} is not in cluster ${cluster.metadata.name} (it has ${names.join(", ")})`;
  const empty = entries.find((e) => e.requests === undefined && e.limits === undefined);
  return empty === undefined ? undefined : `spec.verticalScaling of ${empty.componentName} gives neither requests nor limits`;
}

function withResources(cluster: Cluster, resources: ReadonlyMap<string, ResourceRequirements | undefined>): Cluster {
  const apply = (c: ComponentSpec): ComponentSpec => {
    if (!resources.has(c.name)) return c;
    const { resources: _old, ...rest } = c;
    const next = resources.get(c.name);
    return next === undefined ? rest : { ...rest, resources: next };
  };
  return { ...cluster, spec: { ...cluster.spec, componentSpecs: cluster.spec.componentSpecs.map(apply) } };
}

export class VerticalScaling implements OpsHandler {
  readonly startsFrom = ["Running"] as const;
  readonly #services: OpsServices;

  constructor(services: OpsServices) {
    this.#services = services;
  }

  async begin(ops: OpsRequest, cluster: Cluster): Promise<OpsStep> {
    const problem = verticalScalingProblem(ops, cluster);
    if (problem !== undefined) return { failure: problem };
    // Recorded before the cluster changes: a begin repeated after a crash must not record the new resources as the old.
    const live = ops.status?.lastConfiguration !== undefined ? ops : await this.#services.store.updateStatus<OpsRequest>({ ...ops, status: { ...ops.status, lastConfiguration: { components: this.#before(ops, cluster) } } });
    const target = new Map((ops.spec.verticalScaling ?? []).map((e) => [e.componentName, scaledResources(cluster.spec.componentSpecs.find((c) => c.name === e.componentName)?.resources, e)]));
    const updated = await this.#services.store.update<Cluster>(withResources(cluster, target));
    return { ops: live, cluster: updated };
  }

  #before(ops: OpsRequest, cluster: Cluster): Record<string, { resources?: ResourceRequirements }> {
    const entries = (ops.spec.verticalScaling ?? []).map((e) => {
      const resources = cluster.spec.componentSpecs.find((c) => c.name === e.componentName)?.resources;
      return [e.componentName, resources === undefined ? {} : { resources }] as const;
    });
    return Object.fromEntries(entries);
  }

  follow(ops: OpsRequest, cluster: Cluster, instances: readonly Instance[]): Promise<OpsProgress> {
    const desired = new Map<string, Record<string, string>>();
    for (const entry of ops.spec.verticalScaling ?? []) {
      const parameters = desiredParameters(cluster, entry.componentName, this.#services.engines);
      if (parameters === undefined) return Promise.resolve({ done: 0, total: 0, finished: false, failure: `component ${entry.componentName} or its engine is gone` });
      desired.set(entry.componentName, parameters);
    }
    return Promise.resolve(rolloutProgress(ops, cluster, instances, desired));
  }

  async cancel(ops: OpsRequest, cluster: Cluster): Promise<OpsStep> {
    const recorded = ops.status?.lastConfiguration?.components;
    if (recorded === undefined) return { ops, cluster };
    const previous = new Map(Object.entries(recorded).map(([name, c]) => [name, c.resources]));
    const updated = await this.#services.store.update<Cluster>(withResources(cluster, previous));
    return { ops, cluster: updated };
  }
}
