/**
 * OpsDefinition (operations.kubeblocks.io/v1alpha1, cluster-scoped): what a `Custom` OpsRequest runs (ADR 0054). A
 * documented subset of KubeBlocks' fields: the parameters' schema, the engines it applies to (componentInfos) and
 * actions of the `exec` kind whose command names one action of an engine's fixed allow-list (`holdfast:<action>`).
 * KubeBlocks' other fields (pre-conditions, pod info extractors, workload and resource-modifier actions, an exec's
 * image, env or container) would run arbitrary code or reach outside an instance: they are refused, naming the field.
 */
import { z } from "zod";
import { metadataSchema } from "./common.ts";
import { refusedWhen } from "./field-support.ts";

/** The prefix of an exec command naming an engine action: `holdfast:checkpoint`. */
export const ACTION_COMMAND_PREFIX = "holdfast:";

function refused(message: string): z.ZodOptional<z.ZodUnknown> {
  return refusedWhen(z.unknown(), (value) => value !== undefined && value !== null, message).optional();
}

const KEYWORDS = "type (string, integer or boolean), description, enum, minimum, maximum, minLength, maxLength, pattern and default";
const keyword = (): z.ZodOptional<z.ZodUnknown> => refused(`is not supported in a parameter's schema; Holdfast reads ${KEYWORDS}`);

/** One parameter's schema: a scalar with the checks Holdfast makes. */
export const parameterPropertySchema = z.object({
  type: z.enum(["string", "integer", "boolean"]),
  description: z.string().optional(),
  enum: z.array(z.union([z.string(), z.int(), z.boolean()])).min(1).optional(),
  minimum: z.number().optional(),
  maximum: z.number().optional(),
  minLength: z.int().min(0).optional(),
  maxLength: z.int().min(0).optional(),
  pattern: z.string().min(1).max(512).optional(),
  default: z.union([z.string(), z.number(), z.boolean()]).optional(),
  format: keyword(),
  items: keyword(),
  properties: keyword(),
  additionalProperties: keyword(),
  oneOf: keyword(),
  anyOf: keyword(),
  allOf: keyword(),
  not: keyword(),
  nullable: keyword(),
  exclusiveMinimum: keyword(),
  exclusiveMaximum: keyword(),
  multipleOf: keyword(),
});

/** KubeBlocks' parametersSchema: an OpenAPI v3 object schema of scalar properties. */
export const parametersSchemaSchema = z.object({
  openAPIV3Schema: z.object({
    type: z.literal("object").optional(),
    description: z.string().optional(),
    properties: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_.-]{0,62}$/, "must be a parameter name: letters, digits, _ . -, at most 63"), parameterPropertySchema).optional(),
    required: z.array(z.string().min(1)).optional(),
    additionalProperties: refused("is not supported: an OpsRequest gives the parameters the schema names, and no other"),
  }).optional(),
});

/** An engine this definition applies to, by KubeBlocks' ComponentDefinition name (`postgresql`, `postgresql-16`). */
export const opsComponentInfoSchema = z.object({
  componentDefinitionName: z.string().min(1),
  accountName: refused("is not supported: an action runs as the engine's administrator account"),
  serviceName: refused("is not supported: an action runs on each chosen instance's own loopback port"),
});

/** An `exec` action: its command names an engine action (`["holdfast:checkpoint"]`), nothing else runs. */
export const opsExecActionSchema = z.object({
  command: z.array(z.string()).min(1),
  podInfoExtractorName: refused("is not supported: the engine action says where it runs (the primary, or every instance)"),
  backoffLimit: refused("is not supported: a failed action is not retried; create a new OpsRequest"),
  env: refused("is not supported: an action's inputs are the definition's parameters"),
  container: refused("is not supported: an action runs in the instance's own context, not a container"),
  image: refused("is not supported: an action runs in the instance's own context, not an image"),
});

export const opsActionSchema = z.object({
  name: z.string().min(1),
  /** Fail (the default): a failure ends the OpsRequest Failed; Ignore: the next action runs all the same. */
  failurePolicy: z.enum(["Fail", "Ignore"]).optional(),
  /** The parameters (names of the schema's properties) the action is given. */
  parameters: z.array(z.string().min(1)).optional(),
  exec: opsExecActionSchema.optional(),
  workload: refused("is not supported: Holdfast runs no workloads of a definition's own; use exec with a holdfast: action"),
  resourceModifier: refused("is not supported: use the OpsRequest type that changes the resource"),
});

export const opsDefinitionSpecSchema = z.object({
  componentInfos: z.array(opsComponentInfoSchema).min(1),
  parametersSchema: parametersSchemaSchema.optional(),
  actions: z.array(opsActionSchema).min(1),
  preConditions: refused("is not supported: the engine's action checks what it needs itself"),
  podInfoExtractors: refused("is not supported: the engine action says where it runs (the primary, or every instance)"),
});

export const opsDefinitionSchema = z.object({
  apiVersion: z.literal("operations.kubeblocks.io/v1alpha1"),
  kind: z.literal("OpsDefinition"),
  metadata: metadataSchema,
  spec: opsDefinitionSpecSchema,
  status: z.looseObject({}).optional(),
});

export type ParameterProperty = z.infer<typeof parameterPropertySchema>;
export type OpsAction = z.infer<typeof opsActionSchema>;
export type OpsDefinitionSpec = z.infer<typeof opsDefinitionSpecSchema>;
export type OpsDefinition = z.infer<typeof opsDefinitionSchema>;

/** The engine action an exec command names (`["holdfast:checkpoint"]` → `checkpoint`), or undefined for any other command. */
export function actionOfCommand(command: readonly string[]): string | undefined {
  const [only, ...rest] = command;
  if (only === undefined || rest.length > 0 || !only.startsWith(ACTION_COMMAND_PREFIX)) return undefined;
  const name = only.slice(ACTION_COMMAND_PREFIX.length);
  return /^[a-z][a-z0-9-]{0,62}$/.test(name) ? name : undefined;
}

/** The engine a componentDefinitionName names, as a Cluster's componentDef does (`postgresql-16` → postgresql). */
export function engineOfComponentDefinition(name: string, known: readonly string[]): string | undefined {
  return [...known].sort((a, b) => b.length - a.length).find((engine) => name === engine || name.startsWith(`${engine}-`));
}
