/** `holdfast apply -f FILE`: create or update every object of a manifest, kubectl-style. */
import { readFile, readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { text as readStream } from "node:stream/consumers";
import { NAMESPACE_FLAGS, UsageError, namespaceOf, parseFlags, stringFlag } from "./args.ts";
import type { FlagValues } from "./args.ts";
import { ApiError } from "./client.ts";
import type { ApiClient } from "./client.ts";
import { clientOf } from "./context.ts";
import type { CliContext } from "./context.ts";
import { isUnchanged, mergeForUpdate, parseManifests, placeInNamespace, qualifiedName, updateChanged } from "./manifest.ts";
import type { ManifestObject } from "./manifest.ts";
import { describeError } from "./output.ts";

export const APPLY_HELP = `Create or update objects from manifests (YAML or JSON, several documents separated by ---).

Every document is parsed and checked before anything is sent: a syntax error or an unknown
kind changes nothing. Objects that exist are updated (labels and annotations merged).

Usage:
  holdfast apply -f FILE|DIR|- [-n NAMESPACE]

Examples:
  holdfast apply -f pg-cluster.yaml
  holdfast apply -f manifests/ -n demo
  cat cluster.yaml | holdfast apply -f -

Options:
  -f, --filename     File, directory (its .yaml/.yml/.json files) or - for stdin; repeatable
  -n, --namespace    Namespace for objects that name none (default: default)
      --server URL   API server (default: HOLDFAST_SERVER, <home>/server.json, https://127.0.0.1:7420)
      --home DIR     Holdfast home (default: HOLDFAST_HOME or ~/.holdfast)
`;

const MAX_CONFLICT_RETRIES = 4;

/** Files a `-f` argument names: the file itself, or a directory's manifests in name order. */
async function expandPath(path: string): Promise<string[]> {
  if (path === "-") return ["-"];
  const info = await stat(path).catch(() => undefined);
  if (info === undefined) throw new UsageError(`the path "${path}" does not exist`, "apply");
  if (!info.isDirectory()) return [path];
  const names = (await readdir(path)).filter((name) => /\.(ya?ml|json)$/.test(name)).sort();
  return names.map((name) => join(path, name));
}

/** Read and check every manifest of every `-f` before anything is sent. */
export async function loadManifests(paths: readonly string[], namespace: string, explicit: boolean): Promise<ManifestObject[]> {
  const files = (await Promise.all(paths.map(expandPath))).flat();
  const objects: ManifestObject[] = [];
  for (const file of files) {
    const text = file === "-" ? await readStream(process.stdin) : await readFile(file, "utf8");
    const parsed = parseManifests(text, file === "-" ? "<stdin>" : file);
    objects.push(...parsed.map((object) => placeInNamespace(object, namespace, explicit)));
  }
  return objects;
}

/** Create or update one object; returns `created`, `configured` or `unchanged`. */
export async function applyObject(client: ApiClient, manifest: ManifestObject): Promise<string> {
  const { info, object } = manifest;
  const namespace = object.metadata.namespace;
  for (let attempt = 0; ; attempt++) {
    try {
      const live = await client.find(info, namespace, object.metadata.name);
      if (live === undefined) {
        await client.create(info, namespace, object);
        return "created";
      }
      const desired = mergeForUpdate(object, live);
      if (isUnchanged(desired, live)) return "unchanged";
      const updated = await client.update(info, namespace, desired);
      return updateChanged(live, updated) ? "configured" : "unchanged";
    } catch (error) {
      // 409: someone wrote in between (or created it first); read again and redo the merge.
      if (!(error instanceof ApiError) || error.code !== 409 || attempt >= MAX_CONFLICT_RETRIES) throw error;
    }
  }
}

/** The -f values given. */
export function filenames(values: FlagValues): string[] {
  const raw = values["filename"];
  const list = Array.isArray(raw) ? raw : [raw];
  return list.filter((value): value is string => typeof value === "string");
}

/** Run `holdfast apply`. */
export async function runApply(ctx: CliContext, argv: readonly string[]): Promise<number> {
  const args = parseFlags(argv, { ...NAMESPACE_FLAGS, filename: { type: "string", short: "f", multiple: true } }, "apply");
  if (args.values["help"] === true) return help(ctx);
  const paths = filenames(args.values);
  if (paths.length === 0) throw new UsageError("must specify -f FILE (or -f - to read standard input)", "apply");
  if (args.positionals.length > 0) throw new UsageError(`unexpected argument "${args.positionals[0] ?? ""}"`, "apply");
  const explicit = stringFlag(args.values, "namespace") !== undefined;
  const manifests = await loadManifests(paths, namespaceOf(args.values), explicit);
  if (manifests.length === 0) throw new UsageError("no objects passed to apply", "apply");
  const client = clientOf(ctx, args.values);
  let failed = false;
  for (const manifest of manifests) {
    const name = qualifiedName(manifest.info, manifest.object.metadata.name);
    try {
      ctx.io.out(`${name} ${await applyObject(client, manifest)}\n`);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      failed = true;
      ctx.io.err(describeError(error).text);
    }
  }
  return failed ? 1 : 0;
}

function help(ctx: CliContext): number {
  ctx.io.out(APPLY_HELP);
  return 0;
}
