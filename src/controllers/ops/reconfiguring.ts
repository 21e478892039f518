/**
 * Reconfiguring: the parameters are written into the component's `configs` (so the Cluster says what runs, and a
 * later reconcile keeps it); the cluster controller gives them to the instances: dynamic ones are applied live by each
 * node agent, static ones by the rolling restart (cluster/rollout.ts). Values were checked at admission against the
 * engine's schema and are checked again here (the schema may have changed between versions).
 */
import type { Cluster, ComponentSpec, Instance, OpsRequest, ReconfigureSpec } from "../../api/index.ts";
import { engineNameFor } from "../../api/index.ts";
import { parameterProblem } from "../../engines/index.ts";
import { desiredParameters } from "../cluster/index.ts";
import type { OpsHandler, OpsServices, OpsStep } from "./handler.ts";
import type { OpsProgress } from "./progress.ts";
import { rolloutProgress } from "./rollout-progress.ts";

/** The name of the `configs` entry a Reconfiguring writes when the component has none. */
export const RECONFIGURE_CONFIG_NAME = "parameters";

/** The component with `changes` applied to its `configs` variables (null: removed from every entry). */
export function reconfigured(spec: ComponentSpec, changes: ReadonlyMap<string, string | null>): ComponentSpec {
  const existing = spec.configs ?? [];
  const configs = (existing.length === 0 ? [{ name: RECONFIGURE_CONFIG_NAME }] : existing).map((c, i) => {
    const kept = Object.entries(c.variables ?? {}).filter(([key]) => !changes.has(key));
    const added = i === 0 ? [...changes].filter((entry): entry is [string, string] => entry[1] !== null) : [];
    return { ...c, variables: Object.fromEntries([...kept, ...added]) };
  });
  return { ...spec, configs };
}

function changesOf(entry: ReconfigureSpec): Map<string, string | null> {
  return new Map(entry.parameters.map((p) => [p.key, p.value ?? null]));
}

function currentValue(spec: ComponentSpec | undefined, key: string): string | null {
  const config = (spec?.configs ?? []).find((c) => c.variables?.[key] !== undefined);
  return config?.variables?.[key] ?? null;
}

export class Reconfiguring implements OpsHandler {
  readonly startsFrom = ["Running"] as const;
  readonly #services: OpsServices;

  constructor(services: OpsServices) {
    this.#services = services;
  }

  /** Why the request cannot be carried out, naming the component or parameter. */
  #problem(ops: OpsRequest, cluster: Cluster): string | undefined {
    const entries = ops.spec.reconfigures ?? [];
    if (entries.length === 0) return "spec.reconfigures lists no component";
    for (const entry of entries) {
      const spec = cluster.spec.componentSpecs.find((c) => c.name === entry.componentName);
      const engineName = spec === undefined ? undefined : engineNameFor(cluster, spec, this.#services.engines.list().map((e) => e.name));
      const schema = engineName === undefined ? undefined : this.#services.engines.find(engineName)?.parameterSchema;
      if (schema === undefined) return `component ${entry.componentName} is not in cluster ${cluster.metadata.name} or its engine has no parameters to set`;
      const problem = entry.parameters.map((p) => parameterProblem(schema, p.key, p.value ?? null)).find((p) => p !== undefined);
      if (problem !== undefined) return `component ${entry.componentName}: ${problem}`;
    }
    return undefined;
  }

  async begin(ops: OpsRequest, cluster: Cluster): Promise<OpsStep> {
    const problem = this.#problem(ops, cluster);
    if (problem !== undefined) return { failure: problem };
    const entries = ops.spec.reconfigures ?? [];
    const before = Object.fromEntries(entries.map((e) => {
      const spec = cluster.spec.componentSpecs.find((c) => c.name === e.componentName);
      return [e.componentName, { parameters: Object.fromEntries(e.parameters.map((p) => [p.key, currentValue(spec, p.key)])) }];
    }));
    const live = ops.status?.lastConfiguration !== undefined ? ops : await this.#services.store.updateStatus<OpsRequest>({ ...ops, status: { ...ops.status, lastConfiguration: { components: before } } });
    const changes = new Map(entries.map((e) => [e.componentName, changesOf(e)]));
    const componentSpecs = cluster.spec.componentSpecs.map((c) => {
      const change = changes.get(c.name);
      return change === undefined ? c : reconfigured(c, change);
    });
    const updated = await this.#services.store.update<Cluster>({ ...cluster, spec: { ...cluster.spec, componentSpecs } });
    return { ops: live, cluster: updated };
  }

  follow(ops: OpsRequest, cluster: Cluster, instances: readonly Instance[]): Promise<OpsProgress> {
    const desired = new Map<string, Record<string, string>>();
    for (const entry of ops.spec.reconfigures ?? []) {
      const parameters = desiredParameters(cluster, entry.componentName, this.#services.engines);
      if (parameters === undefined) return Promise.resolve({ done: 0, total: 0, finished: false, failure: `component ${entry.componentName} or its engine is gone` });
      desired.set(entry.componentName, parameters);
    }
    return Promise.resolve(rolloutProgress(ops, cluster, instances, desired));
  }
}
