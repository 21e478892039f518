/** `holdfast patch`, `holdfast label` and `holdfast annotate`: change part of an object, as kubectl does. */
import { readFile } from "node:fs/promises";
import { parse as parseYaml } from "yaml";
import { NAMESPACE_FLAGS, UsageError, boolFlag, namespaceOf, parseFlags, stringFlag, type FlagValues } from "./args.ts";
import type { PatchType } from "./client.ts";
import { clientOf } from "./context.ts";
import type { CliContext } from "./context.ts";
import { kindLabel, parseTarget } from "./kinds.ts";

export const PATCH_HELP = `Change fields of an object with a patch.

Usage:
  holdfast patch KIND NAME (-p PATCH | --patch-file FILE) [--type merge|json|strategic] [-n NAMESPACE]

The patch is JSON or YAML: a JSON merge patch (default, RFC 7386), a JSON patch (RFC 6902, a list of
operations) or a strategic merge patch (lists merged by their key, as Kubernetes does).

Examples:
  holdfast patch cluster pg -n demo -p '{"spec":{"terminationPolicy":"WipeOut"}}'
  holdfast patch cluster pg -n demo --type json -p '[{"op":"replace","path":"/spec/componentSpecs/0/replicas","value":3}]'
  holdfast patch cluster pg -n demo --type strategic -p '{"spec":{"componentSpecs":[{"name":"postgresql","replicas":2}]}}'
`;

const LABEL_HELP = (verb: "label" | "annotate", field: string) => `Add, change or remove the ${field} of an object.

Usage:
  holdfast ${verb} KIND NAME KEY=VALUE... KEY-... [--overwrite] [-n NAMESPACE]

A KEY=VALUE whose KEY already has another value is refused unless --overwrite is given; KEY- removes KEY.

Examples:
  holdfast ${verb} cluster pg -n demo team=payments
  holdfast ${verb} cluster pg -n demo team=billing --overwrite
  holdfast ${verb} cluster pg -n demo team-
`;

export const LABEL_COMMAND_HELP = LABEL_HELP("label", "labels");
export const ANNOTATE_HELP = LABEL_HELP("annotate", "annotations");

const TYPES: readonly PatchType[] = ["merge", "json", "strategic"];

async function patchText(values: FlagValues): Promise<string> {
  const inline = stringFlag(values, "patch");
  const file = stringFlag(values, "patch-file");
  if ((inline === undefined) === (file === undefined)) throw new UsageError("give the patch with exactly one of -p PATCH or --patch-file FILE", "patch");
  return inline ?? (await readFile(file ?? "", "utf8"));
}

/** The patch parsed (JSON is YAML), checked against its type. */
export function parsePatch(text: string, type: PatchType): unknown {
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (error) {
    throw new UsageError(`the patch is not valid JSON or YAML: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`, "patch");
  }
  if (type === "json" && !Array.isArray(value)) throw new UsageError("a --type json patch is a list of operations, e.g. [{\"op\":\"replace\",\"path\":\"/spec/x\",\"value\":1}]", "patch");
  if (type !== "json" && (value === null || typeof value !== "object" || Array.isArray(value))) throw new UsageError(`a --type ${type} patch is an object, e.g. {"spec":{...}}`, "patch");
  return value;
}

/** Run `holdfast patch`. */
export async function runPatch(ctx: CliContext, argv: readonly string[]): Promise<number> {
  const args = parseFlags(argv, { ...NAMESPACE_FLAGS, patch: { type: "string", short: "p" }, "patch-file": { type: "string" }, type: { type: "string" } }, "patch");
  if (boolFlag(args.values, "help")) {
    ctx.io.out(PATCH_HELP);
    return 0;
  }
  const { info, names } = parseTarget(args.positionals, "patch");
  if (names.length !== 1) throw new UsageError(`give one NAME: holdfast patch ${info.singular} NAME -p PATCH`, "patch");
  const rawType = stringFlag(args.values, "type") ?? "merge";
  const type = TYPES.find((t) => t === rawType);
  if (type === undefined) throw new UsageError(`--type must be one of ${TYPES.join(", ")}, got "${rawType}"`, "patch");
  const patch = parsePatch(await patchText(args.values), type);
  const name = names[0] ?? "";
  const client = clientOf(ctx, args.values);
  await client.patchAs(info, info.namespaced ? namespaceOf(args.values) : undefined, name, patch, type);
  ctx.io.out(`${kindLabel(info)}/${name} patched\n`);
  return 0;
}

/** `KEY=VALUE` sets, `KEY-` removes. */
export function parseKeyChanges(items: readonly string[], command: string): Record<string, string | null> {
  if (items.length === 0) throw new UsageError("give at least one KEY=VALUE or KEY-", command);
  const changes: Record<string, string | null> = {};
  for (const item of items) {
    if (item.endsWith("-") && !item.includes("=")) changes[item.slice(0, -1)] = null;
    else if (item.indexOf("=") > 0) changes[item.slice(0, item.indexOf("="))] = item.slice(item.indexOf("=") + 1);
    else throw new UsageError(`"${item}" is neither KEY=VALUE nor KEY-`, command);
  }
  return changes;
}

/** Keys whose value would change without --overwrite. */
export function wouldOverwrite(current: Record<string, string> | undefined, changes: Record<string, string | null>): string[] {
  return Object.entries(changes).filter(([key, value]) => value !== null && current?.[key] !== undefined && current[key] !== value).map(([key]) => key);
}

/** Run `holdfast label` (field "labels") or `holdfast annotate` (field "annotations"). */
export async function runLabel(ctx: CliContext, argv: readonly string[], field: "labels" | "annotations"): Promise<number> {
  const command = field === "labels" ? "label" : "annotate";
  const args = parseFlags(argv, { ...NAMESPACE_FLAGS, overwrite: { type: "boolean" } }, command);
  if (boolFlag(args.values, "help")) {
    ctx.io.out(field === "labels" ? LABEL_COMMAND_HELP : ANNOTATE_HELP);
    return 0;
  }
  const [kind, name, ...items] = args.positionals;
  const { info } = parseTarget(kind === undefined ? [] : [kind], command);
  if (name === undefined) throw new UsageError(`missing NAME: holdfast ${command} ${info.singular} NAME KEY=VALUE`, command);
  const changes = parseKeyChanges(items, command);
  const namespace = info.namespaced ? namespaceOf(args.values) : undefined;
  const client = clientOf(ctx, args.values);
  const live = await client.get(info, namespace, name);
  const clashes = wouldOverwrite(live.metadata[field], changes);
  if (clashes.length > 0 && !boolFlag(args.values, "overwrite")) {
    throw new UsageError(`'${clashes.join("', '")}' already ha${clashes.length === 1 ? "s a value" : "ve values"}; pass --overwrite to change ${clashes.length === 1 ? "it" : "them"}`, command);
  }
  // The resourceVersion makes the server refuse the patch (409) if the object changed since it was read.
  await client.patch(info, namespace, name, { metadata: { [field]: changes, resourceVersion: live.metadata.resourceVersion } });
  ctx.io.out(`${kindLabel(info)}/${name} ${field === "labels" ? "labeled" : "annotated"}\n`);
  return 0;
}
