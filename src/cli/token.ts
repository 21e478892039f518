/** `holdfast token`: API tokens for automation — create (shown once), list, revoke. */
import { UsageError, boolFlag, expectPositionals, stringFlag } from "./args.ts";
import type { FlagValues, ParsedArgs } from "./args.ts";
import { clientOf } from "./context.ts";
import type { CliContext } from "./context.ts";
import { lifetimeSeconds } from "./durations.ts";
import { toJson } from "./output.ts";
import { AUTHENTICATION_API, listOf, newTokenSchema, parseAnswer, tokenSummarySchema } from "./security-api.ts";
import { tokensTable } from "./security-tables.ts";
import { OUTPUT_FLAG, outputOf, runGroup, type CommandGroup } from "./subcommands.ts";

const TOKENS_PATH = `${AUTHENTICATION_API}/apitokens`;

export const TOKEN_HELP = `Manage API tokens: bearer credentials for scripts and CI, each with a name and an expiry.

Usage:
  holdfast token create --name NAME --expires 30d [--user USER] [-o json]
  holdfast token list [--user USER | --all] [-o json]
  holdfast token revoke ID

Examples:
  holdfast token create --name ci --expires 90d
  holdfast token list --all
  holdfast token revoke k3m7q2xv5a4b6c7d

Run "holdfast token SUBCOMMAND --help" for the flags of each.
`;

const CREATE_HELP = `Create an API token. The token is shown once: store it right away.

Programs use it as HOLDFAST_TOKEN=<token> for the CLI, or as the header
"Authorization: Bearer <token>". It acts with the roles of its user. It never
outlives the credential you create it with: made with a token, it expires with
it and is revoked with it; made in a session, it is revoked when you log out.

Usage:
  holdfast token create --name NAME --expires DURATION [--user USER] [-o json]

Examples:
  holdfast token create --name ci --expires 30d
  holdfast token create --name backup-job --expires 1y --user backup -o json

Options:
      --name NAME          What the token is for (shown in lists and audit records)
      --expires DURATION   Lifetime: 90m, 12h, 30d, 2w, 1y (units s, m, h, d, w, y); the server allows at most 1y
      --user USER          Create it for another user: needs create on apitokens and every permission
                           of that user, or impersonate on them (default: yourself)
  -o, --output json        Print the server's answer, token included, as JSON
`;

const LIST_HELP = `List API tokens (never the tokens themselves, which the server does not keep).

Usage:
  holdfast token list [--user USER | --all] [-o json]

Examples:
  holdfast token list
  holdfast token list --user ci-bot
  holdfast token list --all

Options:
      --user USER    The tokens of USER (default: your own)
      --all          The tokens of every user
  -o, --output json  Print the server's answer as JSON
`;

const REVOKE_HELP = `Revoke an API token: the next request that presents it is refused.

Usage:
  holdfast token revoke ID

Example:
  holdfast token list
  holdfast token revoke k3m7q2xv5a4b6c7d
`;

/** The body of `POST apitokens` for these flags; usage errors name a missing or malformed flag. */
export function tokenRequest(values: FlagValues): { name: string; expiresInSeconds: number; username?: string } {
  const name = stringFlag(values, "name");
  if (name === undefined || name === "") throw new UsageError("missing --name: say what the token is for, e.g. --name ci", "token create");
  const expires = stringFlag(values, "expires");
  if (expires === undefined) throw new UsageError("missing --expires: every token expires; give a lifetime such as 30d or 1y", "token create");
  const username = stringFlag(values, "user");
  return { name, expiresInSeconds: lifetimeSeconds(expires, "token create"), ...(username === undefined ? {} : { username }) };
}

/** The query of `GET apitokens` for `--user` / `--all` (none: the caller's own tokens). */
export function tokenListQuery(values: FlagValues): string {
  const username = stringFlag(values, "user");
  const all = boolFlag(values, "all");
  if (username !== undefined && all) throw new UsageError("use --user or --all, not both", "token list");
  if (all) return "?all=true";
  return username === undefined ? "" : `?username=${encodeURIComponent(username)}`;
}

async function runCreate(ctx: CliContext, args: ParsedArgs): Promise<number> {
  expectPositionals(args, [], "token create");
  const format = outputOf(args.values, ["json"], "token create");
  const request = tokenRequest(args.values);
  const answer = await clientOf(ctx, args.values).postJson(TOKENS_PATH, request);
  if (format === "json") {
    ctx.io.out(toJson(answer));
    return 0;
  }
  const token = parseAnswer(newTokenSchema, answer, "token create");
  const owner = token.username ?? request.username;
  ctx.io.out(
    `apitoken/${token.id} "${token.name}" created${owner === undefined ? "" : ` for user ${owner}`}; it expires at ${token.expiresAt}\n\n` +
      `  ${token.token}\n\n` +
      `Store it now (a password manager, your CI's secret store): it is shown once and cannot be read back.\n` +
      `Use it with HOLDFAST_TOKEN=<token> or the header "Authorization: Bearer <token>"; revoke it with: holdfast token revoke ${token.id}\n`,
  );
  return 0;
}

async function runList(ctx: CliContext, args: ParsedArgs): Promise<number> {
  expectPositionals(args, [], "token list");
  const format = outputOf(args.values, ["json"], "token list");
  const answer = await clientOf(ctx, args.values).getJson(TOKENS_PATH + tokenListQuery(args.values));
  if (format === "json") {
    ctx.io.out(toJson(answer));
    return 0;
  }
  const tokens = parseAnswer(listOf(tokenSummarySchema), answer, "token list").items;
  if (tokens.length === 0) {
    ctx.io.err("No API tokens.\n");
    return 0;
  }
  ctx.io.out(tokensTable(tokens, ctx.now()));
  return 0;
}

async function runRevoke(ctx: CliContext, args: ParsedArgs): Promise<number> {
  const [id = ""] = expectPositionals(args, ["ID"], "token revoke");
  await clientOf(ctx, args.values).deletePath(`${TOKENS_PATH}/${encodeURIComponent(id)}`);
  ctx.io.out(`apitoken/${id} revoked\n`);
  return 0;
}

const TOKEN_GROUP: CommandGroup = {
  name: "token",
  help: TOKEN_HELP,
  subcommands: {
    create: { help: CREATE_HELP, flags: { name: { type: "string" }, expires: { type: "string" }, user: { type: "string" }, ...OUTPUT_FLAG }, run: runCreate },
    list: { help: LIST_HELP, flags: { user: { type: "string" }, all: { type: "boolean" }, ...OUTPUT_FLAG }, run: runList },
    revoke: { help: REVOKE_HELP, flags: {}, run: runRevoke },
  },
};

/** Run `holdfast token SUBCOMMAND`. */
export function runToken(ctx: CliContext, argv: readonly string[]): Promise<number> {
  return runGroup(ctx, argv, TOKEN_GROUP);
}
