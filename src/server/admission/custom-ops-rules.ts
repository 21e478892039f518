/**
 * Semantic rules of a `Custom` OpsRequest (ADR 0054): its OpsDefinition exists, each item names a component of the
 * cluster whose engine the definition applies to, and its parameters pass the definition's schema and the engine
 * actions' own checks; every problem names its field. The definition is read by the caller.
 */
import { engineNameFor, engineOfComponentDefinition, type Cluster, type OpsDefinition, type OpsRequest } from "../../api/index.ts";
import { customSteps } from "../../engines/index.ts";
import type { FieldCause } from "../../errors/index.ts";
import type { EngineDirectory } from "./cluster-rules.ts";

function itemCauses(ops: OpsRequest, cluster: Cluster, definition: OpsDefinition, engines: EngineDirectory): FieldCause[] {
  const known = engines.list().map((e) => e.name);
  const applies = new Set(definition.spec.componentInfos.map((c) => engineOfComponentDefinition(c.componentDefinitionName, known)));
  return (ops.spec.custom?.items ?? []).flatMap((item, i): FieldCause[] => {
    const at = `spec.custom.items[${i}]`;
    const component = cluster.spec.componentSpecs.find((c) => c.name === item.componentName);
    if (component === undefined) return [{ field: `${at}.componentName`, reason: "FieldValueNotFound", message: `Not found: ${JSON.stringify(item.componentName)}: cluster ${cluster.metadata.name} has components: ${cluster.spec.componentSpecs.map((c) => c.name).join(", ")}` }];
    const name = engineNameFor(cluster, component, known);
    const engine = name === undefined ? undefined : engines.find(name);
    if (engine === undefined || !applies.has(engine.name)) {
      return [{ field: `${at}.componentName`, reason: "FieldValueInvalid", message: `Invalid value: component ${item.componentName} runs ${name ?? "an unknown engine"}; OpsDefinition ${definition.metadata.name} applies to ${definition.spec.componentInfos.map((c) => c.componentDefinitionName).join(", ")}` }];
    }
    return customSteps(definition, engine, item.parameters ?? []).problems.map((p) => ({ field: `${at}.${p.field}`, reason: "FieldValueInvalid", message: `Invalid value: ${p.message}` }));
  });
}

/** Every rule violation of a Custom OpsRequest against its cluster and its definition (undefined: not found). */
export function customOpsCauses(ops: OpsRequest, cluster: Cluster, definition: OpsDefinition | undefined, engines: EngineDirectory): FieldCause[] {
  const custom = ops.spec.custom;
  if (custom === undefined) return [{ field: "spec.custom", reason: "FieldValueRequired", message: "Required value: name the OpsDefinition and the components, e.g. {opsDefinitionName: pg-checkpoint, items: [{componentName: postgresql}]}" }];
  if (definition === undefined) return [{ field: "spec.custom.opsDefinitionName", reason: "FieldValueNotFound", message: `Not found: ${JSON.stringify(custom.opsDefinitionName)}: no OpsDefinition of this name (holdfast get opsdefinitions); a cluster administrator creates them` }];
  return itemCauses(ops, cluster, definition, engines);
}
