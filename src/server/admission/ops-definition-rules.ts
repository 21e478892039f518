/**
 * Semantic rules of an OpsDefinition (ADR 0054, pure): the engines it names exist and have actions; each action is an
 * exec whose command names an action on the allow-list of every one of them; the parameters an action is given are
 * properties of the schema and parameters of the engine action, of the same type; patterns compile.
 */
import { actionOfCommand, engineOfComponentDefinition, schemaPattern, type OpsAction, type OpsDefinition } from "../../api/index.ts";
import { engineAction, type Engine } from "../../engines/index.ts";
import type { FieldCause } from "../../errors/index.ts";
import type { EngineDirectory } from "./cluster-rules.ts";

/** The engines of a definition's componentInfos, with the causes against those that name none. */
export function definitionEngines(definition: OpsDefinition, engines: EngineDirectory): { engines: Engine[]; causes: FieldCause[] } {
  const known = engines.list().map((e) => e.name);
  const found: Engine[] = [];
  const causes: FieldCause[] = [];
  definition.spec.componentInfos.forEach((info, i) => {
    const name = engineOfComponentDefinition(info.componentDefinitionName, known);
    const engine = name === undefined ? undefined : engines.find(name);
    const field = `spec.componentInfos[${i}].componentDefinitionName`;
    if (engine === undefined) causes.push({ field, reason: "FieldValueNotFound", message: `Not found: ${JSON.stringify(info.componentDefinitionName)}: name an engine (${known.join(", ")}), optionally with a version suffix such as postgresql-16` });
    else if ((engine.actions ?? []).length === 0) causes.push({ field, reason: "FieldValueNotSupported", message: `Unsupported value: engine ${engine.name} has no actions a Custom OpsRequest can run` });
    else if (!found.includes(engine)) found.push(engine);
  });
  return { engines: found, causes };
}

function allowList(engine: Engine): string {
  return `${engine.name}: ${(engine.actions ?? []).map((a) => `holdfast:${a.name}`).join(", ")}`;
}

/** The causes against one action, for every engine of the definition. */
function actionCauses(action: OpsAction, i: number, definition: OpsDefinition, engines: readonly Engine[]): FieldCause[] {
  const at = `spec.actions[${i}]`;
  if (action.exec === undefined) return [{ field: `${at}.exec`, reason: "FieldValueRequired", message: `Required value: an action runs one engine action, e.g. exec: {command: ["holdfast:checkpoint"]}` }];
  const name = actionOfCommand(action.exec.command);
  const lists = engines.map(allowList).join("; ");
  if (name === undefined) return [{ field: `${at}.exec.command`, reason: "FieldValueNotSupported", message: `Unsupported value: ${JSON.stringify(action.exec.command)}: a command is one item, holdfast:<action>, naming an action of the engine's allow-list (${lists}); nothing else is run` }];
  const causes: FieldCause[] = [];
  const properties = definition.spec.parametersSchema?.openAPIV3Schema?.properties ?? {};
  for (const engine of engines) {
    const found = engineAction(engine, name);
    if (found === undefined) {
      causes.push({ field: `${at}.exec.command`, reason: "FieldValueNotSupported", message: `Unsupported value: "holdfast:${name}" is not on the allow-list of ${allowList(engine)}` });
      continue;
    }
    (action.parameters ?? []).forEach((parameter, j) => {
      const field = `${at}.parameters[${j}]`;
      const takes = found.parameters.find((p) => p.name === parameter);
      const property = properties[parameter];
      if (property === undefined) causes.push({ field, reason: "FieldValueNotFound", message: `Not found: ${JSON.stringify(parameter)} is not a property of spec.parametersSchema.openAPIV3Schema` });
      else if (takes === undefined) causes.push({ field, reason: "FieldValueNotSupported", message: `Unsupported value: ${engine.name} action ${name} takes ${found.parameters.map((p) => p.name).join(", ") || "no parameters"}` });
      else if (takes.type !== property.type) causes.push({ field, reason: "FieldValueInvalid", message: `Invalid value: ${engine.name} action ${name} takes ${parameter} as ${takes.type}, the schema says ${property.type}` });
    });
  }
  return causes;
}

/** The causes against the parameters' schema: required names that are no property, patterns that do not compile. */
function schemaCauses(definition: OpsDefinition): FieldCause[] {
  const schema = definition.spec.parametersSchema?.openAPIV3Schema;
  const at = "spec.parametersSchema.openAPIV3Schema";
  const properties = schema?.properties ?? {};
  const causes: FieldCause[] = (schema?.required ?? []).flatMap((name, i) => (name in properties ? [] : [{ field: `${at}.required[${i}]`, reason: "FieldValueNotFound", message: `Not found: ${JSON.stringify(name)} is not a property` }]));
  for (const [name, property] of Object.entries(properties)) {
    if (property.pattern !== undefined && schemaPattern(property.pattern) === undefined) causes.push({ field: `${at}.properties.${name}.pattern`, reason: "FieldValueInvalid", message: `Invalid value: ${JSON.stringify(property.pattern)} is not a regular expression` });
    if (property.pattern !== undefined && property.type !== "string") causes.push({ field: `${at}.properties.${name}.pattern`, reason: "FieldValueInvalid", message: `Invalid value: a pattern applies to a string parameter` });
  }
  return causes;
}

/** Every rule violation of an OpsDefinition. */
export function opsDefinitionCauses(definition: OpsDefinition, engines: EngineDirectory): FieldCause[] {
  const found = definitionEngines(definition, engines);
  const actions = definition.spec.actions.flatMap((action, i) => actionCauses(action, i, definition, found.engines));
  return [...found.causes, ...schemaCauses(definition), ...actions];
}
