/**
 * An engine's typed parameter schema (KubeBlocks' ParametersDefinition, a documented subset): each parameter's type,
 * range or allowed values, and how a change takes effect — `dynamic` live (reload / CONFIG SET), `static` at a
 * (rolling) restart, `immutable` never (Holdfast sets it). Parameters not listed are refused: the subset is the contract.
 */
import { hasControlCharacters } from "./config-text.ts";

/** How a change of a parameter takes effect. */
export type ParameterPolicy = "dynamic" | "static" | "immutable";

/** One parameter of an engine. */
export interface ParameterDefinition {
  name: string;
  /** `integer`/`number` with optional min/max; `size` a byte size in the engine's units; `enum` one of `values`. */
  type: "integer" | "number" | "boolean" | "enum" | "size" | "duration" | "string";
  policy: ParameterPolicy;
  min?: number;
  max?: number;
  values?: readonly string[];
  /** Why an immutable parameter cannot be set, shown in the refusal. */
  reason?: string;
  /**
   * A replica must run with at least the primary's value (PostgreSQL refuses a hot standby whose `max_connections` and
   * the like are below the primary's): a rolling change that lowers it reaches the primary first (rollingOrder).
   */
  replicaFloor?: boolean;
  /** The engine's own value when the parameter is not set, for comparing a change that sets or removes it. */
  default?: string;
}

/** An engine's parameters: the schema, and how dynamic changes reach a running server. */
export interface EngineParameters {
  readonly definitions: readonly ParameterDefinition[];
  /** Parse a size or duration value to a number of the engine's base unit, or undefined when it is not one. */
  parseQuantity(type: "size" | "duration", value: string): number | undefined;
  /** Values the engine reads as booleans. */
  readonly booleans: readonly string[];
}

function numberProblem(definition: ParameterDefinition, value: number | undefined, shown: string): string | undefined {
  if (value === undefined || Number.isNaN(value)) return `${definition.name}: ${JSON.stringify(shown)} is not a valid ${definition.type}`;
  if (definition.type === "integer" && !Number.isInteger(value)) return `${definition.name}: ${JSON.stringify(shown)} is not an integer`;
  if (definition.min !== undefined && value < definition.min) return `${definition.name}: ${shown} is below the minimum ${definition.min}`;
  if (definition.max !== undefined && value > definition.max) return `${definition.name}: ${shown} is above the maximum ${definition.max}`;
  return undefined;
}

function valueProblem(definition: ParameterDefinition, value: string, schema: EngineParameters): string | undefined {
  switch (definition.type) {
    case "integer":
    case "number":
      return numberProblem(definition, /^-?\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : undefined, value);
    case "size":
    case "duration":
      return numberProblem(definition, schema.parseQuantity(definition.type, value), value);
    case "boolean":
      return schema.booleans.includes(value.toLowerCase()) ? undefined : `${definition.name}: ${JSON.stringify(value)} is not one of ${schema.booleans.join(", ")}`;
    case "enum":
      return (definition.values ?? []).includes(value) ? undefined : `${definition.name}: ${JSON.stringify(value)} is not one of ${(definition.values ?? []).join(", ")}`;
    case "string":
      return hasControlCharacters(value) ? `${definition.name}: must not contain control characters` : undefined;
  }
}

/** Why `name` cannot be set to `value` (null: back to the default), naming the parameter; undefined when it can. */
export function parameterProblem(schema: EngineParameters, name: string, value: string | null): string | undefined {
  const definition = schema.definitions.find((d) => d.name === name);
  if (definition === undefined) return `${name}: not a parameter Holdfast lets you set (see docs/usage.md, Reconfiguring)`;
  if (definition.policy === "immutable") return `${name}: cannot be changed${definition.reason === undefined ? "" : `: ${definition.reason}`}`;
  return value === null ? undefined : valueProblem(definition, value, schema);
}

/** The policy of a known parameter (undefined for one the schema does not list). */
export function parameterPolicy(schema: EngineParameters, name: string): ParameterPolicy | undefined {
  return schema.definitions.find((d) => d.name === name)?.policy;
}

/**
 * Which member of a replicated component a rolling change of parameters reaches first: `replicas-first` (then a
 * switchover, then the former primary) unless the change lowers a `replicaFloor` parameter below what the primary runs
 * with; then `primary-first` (restarted in place, then the replicas), as a replica below the primary's value would not
 * start. A value that cannot be compared (no default, not a number) counts as lowered: a primary restarted first is
 * safe either way, a replica started below the primary is not. Pure.
 */
export function rollingOrder(schema: EngineParameters | undefined, primary: Readonly<Record<string, string>>, desired: Readonly<Record<string, string>>): RollingOrder {
  const floors = (schema?.definitions ?? []).filter((d) => d.replicaFloor === true);
  return floors.some((d) => lowers(schema, d, primary[d.name], desired[d.name])) ? "primary-first" : "replicas-first";
}

/** The order of a rolling change in a replicated component (rollingOrder). */
export type RollingOrder = "replicas-first" | "primary-first";

function lowers(schema: EngineParameters | undefined, definition: ParameterDefinition, from: string | undefined, to: string | undefined): boolean {
  const before = from ?? definition.default;
  const after = to ?? definition.default;
  if (before === after) return false;
  const a = before === undefined || schema === undefined ? undefined : numericValue(schema, definition, before);
  const b = after === undefined || schema === undefined ? undefined : numericValue(schema, definition, after);
  return a === undefined || b === undefined || b < a;
}

function numericValue(schema: EngineParameters, definition: ParameterDefinition, value: string): number | undefined {
  if (definition.type === "size" || definition.type === "duration") return schema.parseQuantity(definition.type, value);
  const n = value.trim() === "" ? Number.NaN : Number(value);
  return Number.isFinite(n) ? n : undefined;
}
