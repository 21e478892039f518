/** Engine parameters in a Cluster's `configs` and in a Reconfiguring, checked against the engine's typed schema (pure). */
import { engineNameFor, type Cluster, type OpsRequest } from "../../api/index.ts";
import { parameterProblem, type Engine } from "../../engines/index.ts";
import type { FieldCause } from "../../errors/index.ts";
import type { EngineDirectory } from "./cluster-rules.ts";

function engineOf(cluster: Cluster, component: string, engines: EngineDirectory): Engine | undefined {
  const spec = cluster.spec.componentSpecs.find((c) => c.name === component);
  const name = spec === undefined ? undefined : engineNameFor(cluster, spec, engines.list().map((e) => e.name));
  return name === undefined ? undefined : engines.find(name);
}

function problemCause(engine: Engine | undefined, field: string, key: string, value: string | null): FieldCause[] {
  const schema = engine?.parameterSchema;
  if (schema === undefined) return [{ field, reason: "FieldValueNotSupported", message: `Unsupported value: ${JSON.stringify(key)}: the component's engine has no parameters to set` }];
  const problem = parameterProblem(schema, key, value);
  return problem === undefined ? [] : [{ field, reason: "FieldValueInvalid", message: `Invalid value: ${problem}` }];
}

/** Each `configs[].variables` entry of each component: a parameter of its engine, with a valid value. */
export function configsCauses(cluster: Cluster, engines: EngineDirectory): FieldCause[] {
  return cluster.spec.componentSpecs.flatMap((component, c) => {
    const engine = engineOf(cluster, component.name, engines);
    return (component.configs ?? []).flatMap((config, i) =>
      Object.entries(config.variables ?? {}).flatMap(([key, value]) => problemCause(engine, `spec.componentSpecs[${c}].configs[${i}].variables.${key}`, key, value)),
    );
  });
}

/** Each parameter of a Reconfiguring: of a component of the cluster, a parameter of its engine, with a valid value. */
export function reconfigureCauses(ops: OpsRequest, cluster: Cluster, engines: EngineDirectory): FieldCause[] {
  const entries = ops.spec.reconfigures ?? [];
  if (entries.length === 0) return [{ field: "spec.reconfigures", reason: "FieldValueRequired", message: "Required value: list a component and its parameters, e.g. [{componentName: NAME, parameters: [{key: K, value: V}]}]" }];
  const names = cluster.spec.componentSpecs.map((c) => c.name);
  return entries.flatMap((entry, i) => {
    if (!names.includes(entry.componentName)) {
      return [{ field: `spec.reconfigures[${i}].componentName`, reason: "FieldValueNotFound", message: `Not found: ${JSON.stringify(entry.componentName)}: cluster ${cluster.metadata.name} has components: ${names.join(", ")}` }];
    }
    const engine = engineOf(cluster, entry.componentName, engines);
    return entry.parameters.flatMap((p, j) => problemCause(engine, `spec.reconfigures[${i}].parameters[${j}].value`, p.key, p.value ?? null));
  });
}
