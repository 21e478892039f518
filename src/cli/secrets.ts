/** `holdfast secrets`: the keys that encrypt Secrets and TOTP seeds at rest: list, rotate, rewrap. */
import { z } from "zod";
import { CliError, UsageError, boolFlag, expectPositionals, parseFlags, stringFlag } from "./args.ts";
import type { FlagValues, ParsedArgs } from "./args.ts";
import { clientOf } from "./context.ts";
import type { CliContext } from "./context.ts";
import { formatAge, formatTable, toJson, toYaml } from "./output.ts";

/** The keyring endpoints (served to cluster-admin by default). */
export const KEYRING_PATH = "/apis/security.holdfast.io/v1alpha1/keyring";

export const SECRETS_HELP = `Manage the keys that encrypt Secrets and TOTP seeds at rest.

Usage:
  holdfast secrets keys [-o table|json|yaml]
  holdfast secrets rotate-key [-o text|json|yaml]
  holdfast secrets rewrap [-o text|json|yaml]

Subcommands:
  keys         List the key ids, when each was made, and which one is primary
  rotate-key   Make a new primary key for every new write; older keys still decrypt
  rewrap       Re-encrypt everything under the primary key and erase older ciphertexts

Example (replace a key that may be exposed):
  holdfast secrets rotate-key
  holdfast secrets rewrap
  holdfast secrets keys

Keep a backup of the keyring file (<home>/keys/secrets.keyring.json): without it nothing can be decrypted.
Run "holdfast secrets SUBCOMMAND --help" for the details of each.
`;

const KEYS_HELP = `List the keyring's keys: id, primary or not, and age. Key material is never shown.

Usage:
  holdfast secrets keys [-o table|json|yaml]

Examples:
  holdfast secrets keys
  holdfast secrets keys -o json

Options:
  -o, --output   table (default), json or yaml
`;

const ROTATE_HELP = `Make a new primary key. Every Secret and TOTP seed written from now on is encrypted
with it; the older keys stay in the keyring, so everything written before still decrypts.
Nothing is re-encrypted: run "holdfast secrets rewrap" for that.

Usage:
  holdfast secrets rotate-key [-o text|json|yaml]

Example:
  holdfast secrets rotate-key && holdfast secrets rewrap
`;

const REWRAP_HELP = `Re-encrypt every Secret and every TOTP seed under the primary key, then erase the older
ciphertexts: change history that still holds them is dropped and both databases are rewritten
(VACUUM, write-ahead log truncated), so no file of the store keeps a ciphertext of an older key.

Safe while the server runs: controllers keep writing meanwhile. Watches that resume from a
resourceVersion before the dropped history get 410 Gone and must list again.

Usage:
  holdfast secrets rewrap [-o text|json|yaml]

Example:
  holdfast secrets rewrap -o json
`;

const keyringSchema = z.object({
  primaryKeyId: z.string(),
  keys: z.array(z.object({ id: z.string(), createdAt: z.string().optional(), primary: z.boolean() })),
});
const rotationSchema = z.object({ primaryKeyId: z.string(), previousPrimaryKeyId: z.string() });
const rewrapSchema = z.object({ primaryKeyId: z.string(), secrets: z.number(), authRecords: z.number(), historyPurged: z.number() });

type Format = "table" | "text" | "json" | "yaml";

/** The `-o` flag: `text` (or `table` for lists), json or yaml. */
function formatOf(values: FlagValues, human: "table" | "text", command: string): Format {
  const raw = stringFlag(values, "output") ?? human;
  if (raw !== human && raw !== "json" && raw !== "yaml") throw new UsageError(`unknown output format "${raw}"; use ${human}, json or yaml`, command);
  return raw;
}

/** Parse a server answer, or say it is not what this command expects. */
function answer<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new CliError(`the server's ${what} answer is not what this CLI expects; check that the CLI and server versions match ("holdfast version")`);
  return parsed.data;
}

/** Print JSON or YAML; false when the format is for people. */
function printMachine(ctx: CliContext, format: Format, value: unknown): boolean {
  if (format === "json") ctx.io.out(toJson(value));
  else if (format === "yaml") ctx.io.out(toYaml(value));
  else return false;
  return true;
}

async function runKeys(ctx: CliContext, args: ParsedArgs): Promise<number> {
  expectPositionals(args, [], "secrets keys");
  const format = formatOf(args.values, "table", "secrets keys");
  const keyring = answer(keyringSchema, await clientOf(ctx, args.values).getJson(KEYRING_PATH), "keyring");
  if (printMachine(ctx, format, keyring)) return 0;
  const rows = keyring.keys.map((key) => [key.id, key.primary ? "true" : "false", key.createdAt ?? "<unknown>", formatAge(key.createdAt, ctx.now())]);
  ctx.io.out(formatTable(["ID", "PRIMARY", "CREATED", "AGE"], rows));
  return 0;
}

async function runRotate(ctx: CliContext, args: ParsedArgs): Promise<number> {
  expectPositionals(args, [], "secrets rotate-key");
  const format = formatOf(args.values, "text", "secrets rotate-key");
  const rotation = answer(rotationSchema, await clientOf(ctx, args.values).postJson(`${KEYRING_PATH}/rotate`, {}), "rotate-key");
  if (printMachine(ctx, format, rotation)) return 0;
  ctx.io.out(`New primary key ${rotation.primaryKeyId} (replaces ${rotation.previousPrimaryKeyId}); new writes use it.\n`);
  ctx.io.err(`What was encrypted before still uses ${rotation.previousPrimaryKeyId}. Re-encrypt it with: holdfast secrets rewrap\n`);
  return 0;
}

async function runRewrap(ctx: CliContext, args: ParsedArgs): Promise<number> {
  expectPositionals(args, [], "secrets rewrap");
  const format = formatOf(args.values, "text", "secrets rewrap");
  const result = answer(rewrapSchema, await clientOf(ctx, args.values).postJson(`${KEYRING_PATH}/rewrap`, {}), "rewrap");
  if (printMachine(ctx, format, result)) return 0;
  ctx.io.out(
    `Everything is now encrypted with key ${result.primaryKeyId}: re-encrypted ${plural(result.secrets, "Secret")} ` +
      `and ${plural(result.authRecords, "authentication record")}, dropped ${plural(result.historyPurged, "change-history entry", "change-history entries")}.\n`,
  );
  if (result.historyPurged > 0) ctx.io.err("Watches resuming from before the dropped history get 410 Gone and must list again.\n");
  return 0;
}

function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

const OUTPUT_FLAG = { output: { type: "string", short: "o" } } as const;

const SUBCOMMANDS = {
  keys: { help: KEYS_HELP, run: runKeys },
  "rotate-key": { help: ROTATE_HELP, run: runRotate },
  rewrap: { help: REWRAP_HELP, run: runRewrap },
} as const;

/** Run `holdfast secrets SUBCOMMAND`. */
export async function runSecrets(ctx: CliContext, argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    ctx.io.out(SECRETS_HELP);
    return name === undefined ? 2 : 0;
  }
  const subcommand = Object.hasOwn(SUBCOMMANDS, name) ? SUBCOMMANDS[name as keyof typeof SUBCOMMANDS] : undefined;
  if (subcommand === undefined) throw new UsageError(`unknown secrets subcommand "${name}": use keys, rotate-key or rewrap`, "secrets");
  const args = parseFlags(rest, OUTPUT_FLAG, `secrets ${name}`);
  if (boolFlag(args.values, "help")) {
    ctx.io.out(subcommand.help);
    return 0;
  }
  return subcommand.run(ctx, args);
}
