/**
 * The parameters of a `Custom` OpsRequest checked against its OpsDefinition's schema (ADR 0054, pure): each value
 * (a string, as KubeBlocks sends it) typed as the schema says, then checked (enum, range, length, pattern); unknown,
 * repeated and missing required parameters refused, defaults filled in. The result is what the actions are given.
 */
import type { ActionArgumentValue } from "./custom-action.ts";
import type { OpsDefinition, ParameterProperty } from "./ops-definition.ts";

/** A value longer than this is refused whatever the schema says: parameters name things, they carry no data. */
export const PARAMETER_VALUE_MAX = 1024;

/** One given parameter, as KubeBlocks spells it. */
export interface GivenParameter {
  name: string;
  value?: string | undefined;
}

/** A problem of one item's parameters: the field below the item (`parameters[1].value`) and why. */
export interface ParameterProblem {
  field: string;
  message: string;
}

type Typed = { value: ActionArgumentValue } | { problem: string };

function typed(text: string, property: ParameterProperty): Typed {
  if (text.length > PARAMETER_VALUE_MAX) return { problem: `longer than ${PARAMETER_VALUE_MAX} characters` };
  if (property.type === "string") return { value: text };
  if (property.type === "boolean") return text === "true" || text === "false" ? { value: text === "true" } : { problem: `${JSON.stringify(text)} is not a boolean (true or false)` };
  const number = /^-?\d{1,15}$/.test(text) ? Number(text) : Number.NaN;
  return Number.isSafeInteger(number) ? { value: number } : { problem: `${JSON.stringify(text)} is not an integer` };
}

function rangeProblem(value: ActionArgumentValue, property: ParameterProperty): string | undefined {
  if (typeof value === "number") {
    if (property.minimum !== undefined && value < property.minimum) return `${value} is below the minimum ${property.minimum}`;
    if (property.maximum !== undefined && value > property.maximum) return `${value} is above the maximum ${property.maximum}`;
  }
  if (typeof value !== "string") return undefined;
  if (property.minLength !== undefined && value.length < property.minLength) return `shorter than ${property.minLength} characters`;
  if (property.maxLength !== undefined && value.length > property.maxLength) return `longer than ${property.maxLength} characters`;
  return undefined;
}

/** The regular expression of a schema's `pattern`, or undefined when it does not compile. */
export function schemaPattern(pattern: string): RegExp | undefined {
  try {
    // eslint-disable-next-line security/detect-non-literal-regexp -- written by a cluster administrator, checked at admission
    return new RegExp(pattern, "u");
  } catch {
    return undefined;
  }
}

/** Why `value` does not satisfy `property`, or undefined. */
function valueProblem(value: ActionArgumentValue, property: ParameterProperty): string | undefined {
  if (property.enum !== undefined && !property.enum.includes(value)) return `${JSON.stringify(value)} is not one of ${property.enum.map((v) => JSON.stringify(v)).join(", ")}`;
  const range = rangeProblem(value, property);
  if (range !== undefined) return range;
  if (property.pattern !== undefined && typeof value === "string" && schemaPattern(property.pattern)?.test(value) !== true) return `${JSON.stringify(value)} does not match the pattern ${property.pattern}`;
  return undefined;
}

/** The typed parameters of one item (defaults filled in), or its problems. */
export function customParameterValues(definition: OpsDefinition, given: readonly GivenParameter[]): { values: Record<string, ActionArgumentValue>; problems: ParameterProblem[] } {
  const schema = definition.spec.parametersSchema?.openAPIV3Schema;
  const properties = schema?.properties ?? {};
  const known = Object.keys(properties);
  const values: Record<string, ActionArgumentValue> = {};
  const problems: ParameterProblem[] = [];
  given.forEach((parameter, i) => {
    const property = properties[parameter.name];
    if (property === undefined) {
      problems.push({ field: `parameters[${i}].name`, message: `${JSON.stringify(parameter.name)} is not a parameter of OpsDefinition ${definition.metadata.name} (it has: ${known.join(", ") || "none"})` });
      return;
    }
    if (parameter.name in values) {
      problems.push({ field: `parameters[${i}].name`, message: `${parameter.name} is given twice` });
      return;
    }
    const result = typed(parameter.value ?? "", property);
    const problem = "problem" in result ? result.problem : valueProblem(result.value, property);
    if (problem !== undefined) problems.push({ field: `parameters[${i}].value`, message: `parameter ${parameter.name}: ${problem}` });
    else if ("value" in result) values[parameter.name] = result.value;
  });
  for (const [name, property] of Object.entries(properties)) {
    if (!(name in values) && property.default !== undefined && !given.some((g) => g.name === name)) values[name] = property.default;
  }
  const missing = (schema?.required ?? []).filter((name) => !given.some((g) => g.name === name) && properties[name]?.default === undefined);
  problems.push(...missing.map((name) => ({ field: "parameters", message: `parameter ${name} is required by OpsDefinition ${definition.metadata.name}` })));
  return { values, problems };
}

/** The arguments one action is given: the values of the parameters it lists. */
export function actionArguments(parameters: readonly string[] | undefined, values: Readonly<Record<string, ActionArgumentValue>>): Record<string, ActionArgumentValue> {
  return Object.fromEntries((parameters ?? []).flatMap((name) => (values[name] === undefined ? [] : [[name, values[name]] as const])));
}
