/** `holdfast user`: create, list, disable, enable, reset-mfa, set-password and delete users. */
import { CliError, boolFlag, expectPositionals } from "./args.ts";
import type { ParsedArgs } from "./args.ts";
import { clientOf } from "./context.ts";
import type { CliContext } from "./context.ts";
import { toJson } from "./output.ts";
import { firstLineOfStdin } from "./prompt.ts";
import {
  AUTHENTICATION_API,
  listOf,
  mfaSecretsSchema,
  newUserSchema,
  parseAnswer,
  passwordAnswerSchema,
  userPath,
  userSummarySchema,
  type MfaSecrets,
} from "./security-api.ts";
import { usersTable } from "./security-tables.ts";
import { OUTPUT_FLAG, outputOf, runGroup, type CommandGroup } from "./subcommands.ts";

export const USER_HELP = `Manage the users who can log in (by default, only the cluster-admin role may).

Usage:
  holdfast user create NAME [--password-stdin] [-o json]
  holdfast user list [-o json|wide]
  holdfast user disable NAME
  holdfast user enable NAME
  holdfast user reset-mfa NAME [-o json]
  holdfast user set-password NAME [--password-stdin] [-o json]
  holdfast user delete NAME

Examples:
  holdfast user create alice
  holdfast user list -o wide
  holdfast user disable alice

Run "holdfast user SUBCOMMAND --help" for the flags of each.
`;

const CREATE_HELP = `Create a user with a password, a TOTP secret and recovery codes.

The password (unless you gave one), the TOTP secret with its QR code, and the
recovery codes are shown once: hand them to the user over a private channel.
The user logs in with "holdfast login" and the authenticator app's code.

Usage:
  holdfast user create NAME [--password-stdin] [-o json]

Examples:
  holdfast user create alice
  printf '%s\\n' "$PASSWORD" | holdfast user create alice --password-stdin
  holdfast user create ci-bot -o json > ci-bot.json     # keep that file private

Options:
      --password-stdin   Take the password from the first line of standard input (default: generated)
  -o, --output json      Print the server's answer as JSON
`;

const LIST_HELP = `List users: whether they are disabled, whether their authenticator app is set up, and when they last logged in.

Usage:
  holdfast user list [-o json|wide]

Examples:
  holdfast user list
  holdfast user list -o wide      # adds the groups

MFA is "enrolled" once a code from the user's authenticator app was accepted, "pending" before.
`;

const DISABLE_HELP = `Disable a user: their sessions end and their API tokens are refused until enabled again.

Usage:
  holdfast user disable NAME

Example:
  holdfast user disable alice
`;

const ENABLE_HELP = `Enable a disabled user again.

Usage:
  holdfast user enable NAME

Example:
  holdfast user enable alice
`;

const RESET_MFA_HELP = `Issue a new TOTP secret and recovery codes for a user (a lost phone, used-up codes).

The old secret and recovery codes stop working and the user's sessions end.
The new ones are shown once.

Usage:
  holdfast user reset-mfa NAME [-o json]

Example:
  holdfast user reset-mfa alice
`;

const SET_PASSWORD_HELP = `Set a user's password; the user's sessions end.

Without --password-stdin the server generates one and it is shown once; a password
you give is checked against the server's password policy.

Usage:
  holdfast user set-password NAME [--password-stdin] [-o json]

Examples:
  holdfast user set-password alice
  printf '%s\\n' "$NEW_PASSWORD" | holdfast user set-password alice --password-stdin
`;

const DELETE_HELP = `Delete a user, with their sessions, API tokens and recovery codes.

Usage:
  holdfast user delete NAME

Example:
  holdfast user delete alice
`;

/** The password from the first line of standard input; an empty line is refused. */
async function passwordFromStdin(): Promise<string> {
  const password = await firstLineOfStdin();
  if (password.length === 0) throw new CliError("--password-stdin: the first line of standard input is empty; pipe the password in, e.g. printf '%s\\n' \"$PASSWORD\" | holdfast ...");
  return password;
}

/** The TOTP secret (text and QR code) and recovery codes, as shown once. */
export async function mfaText(secrets: MfaSecrets): Promise<string> {
  const QRCode = await import("qrcode");
  const qr = await QRCode.toString(secrets.otpauthUri, { type: "terminal", small: true });
  return (
    `Add this TOTP secret to an authenticator app (scan the code or type the secret):\n  secret:    ${secrets.totpSecret}\n  uri:       ${secrets.otpauthUri}\n${qr}\n` +
    `Recovery codes (each works once, instead of a TOTP code):\n  ${secrets.recoveryCodes.join("\n  ")}\n`
  );
}

async function runCreate(ctx: CliContext, args: ParsedArgs): Promise<number> {
  const [name = ""] = expectPositionals(args, ["NAME"], "user create");
  const format = outputOf(args.values, ["json"], "user create");
  const given = boolFlag(args.values, "password-stdin") ? await passwordFromStdin() : undefined;
  const answer = await clientOf(ctx, args.values).postJson(`${AUTHENTICATION_API}/users`, { username: name, ...(given === undefined ? {} : { password: given }) });
  if (format === "json") {
    ctx.io.out(toJson(answer));
    return 0;
  }
  const user = parseAnswer(newUserSchema, answer, "user create");
  const password = given === undefined ? user.password : "(the one given on standard input)";
  ctx.io.out(
    `user/${user.username} created\n\nShown once; hand these to ${user.username} over a private channel:\n  username:  ${user.username}\n  password:  ${password}\n\n` +
      (await mfaText(user)) +
      `\n${user.username} logs in with: holdfast login --username ${user.username}\n`,
  );
  return 0;
}

async function runList(ctx: CliContext, args: ParsedArgs): Promise<number> {
  expectPositionals(args, [], "user list");
  const format = outputOf(args.values, ["json", "wide"], "user list");
  const answer = await clientOf(ctx, args.values).getJson(`${AUTHENTICATION_API}/users`);
  if (format === "json") {
    ctx.io.out(toJson(answer));
    return 0;
  }
  const users = parseAnswer(listOf(userSummarySchema), answer, "user list").items;
  if (users.length === 0) {
    ctx.io.err("No users.\n");
    return 0;
  }
  ctx.io.out(usersTable(users, ctx.now(), format === "wide"));
  return 0;
}

function setDisabled(disabled: boolean): (ctx: CliContext, args: ParsedArgs) => Promise<number> {
  const command = disabled ? "user disable" : "user enable";
  return async (ctx, args) => {
    const [name = ""] = expectPositionals(args, ["NAME"], command);
    const answer = await clientOf(ctx, args.values).postJson(userPath(name, disabled ? "disable" : "enable"), {});
    const user = parseAnswer(userSummarySchema, answer, command);
    ctx.io.out(disabled ? `user/${user.username} disabled (sessions ended; API tokens refused until enabled)\n` : `user/${user.username} enabled\n`);
    return 0;
  };
}

async function runResetMfa(ctx: CliContext, args: ParsedArgs): Promise<number> {
  const [name = ""] = expectPositionals(args, ["NAME"], "user reset-mfa");
  const format = outputOf(args.values, ["json"], "user reset-mfa");
  const answer = await clientOf(ctx, args.values).postJson(userPath(name, "reset-mfa"), {});
  if (format === "json") {
    ctx.io.out(toJson(answer));
    return 0;
  }
  const secrets = parseAnswer(mfaSecretsSchema, answer, "user reset-mfa");
  ctx.io.out(
    `MFA of user/${secrets.username} reset: the old TOTP secret and recovery codes no longer work, and the user's sessions ended.\n` +
      `Shown once; hand these to ${secrets.username} over a private channel.\n\n${await mfaText(secrets)}`,
  );
  return 0;
}

async function runSetPassword(ctx: CliContext, args: ParsedArgs): Promise<number> {
  const [name = ""] = expectPositionals(args, ["NAME"], "user set-password");
  const format = outputOf(args.values, ["json"], "user set-password");
  const given = boolFlag(args.values, "password-stdin") ? await passwordFromStdin() : undefined;
  const answer = await clientOf(ctx, args.values).postJson(userPath(name, "password"), given === undefined ? {} : { password: given });
  if (format === "json") {
    ctx.io.out(toJson(answer));
    return 0;
  }
  const changed = parseAnswer(passwordAnswerSchema, answer, "user set-password");
  if (changed.password === undefined) {
    ctx.io.out(`password of user/${changed.username} changed\n`);
    return 0;
  }
  ctx.io.out(`password of user/${changed.username} changed; the new password (shown once):\n  ${changed.password}\n`);
  return 0;
}

async function runDelete(ctx: CliContext, args: ParsedArgs): Promise<number> {
  const [name = ""] = expectPositionals(args, ["NAME"], "user delete");
  await clientOf(ctx, args.values).deletePath(userPath(name));
  ctx.io.out(`user/${name} deleted\n`);
  return 0;
}

const PASSWORD_STDIN = { "password-stdin": { type: "boolean" } } as const;

const USER_GROUP: CommandGroup = {
  name: "user",
  help: USER_HELP,
  subcommands: {
    create: { help: CREATE_HELP, flags: { ...PASSWORD_STDIN, ...OUTPUT_FLAG }, run: runCreate },
    list: { help: LIST_HELP, flags: OUTPUT_FLAG, run: runList },
    disable: { help: DISABLE_HELP, flags: {}, run: setDisabled(true) },
    enable: { help: ENABLE_HELP, flags: {}, run: setDisabled(false) },
    "reset-mfa": { help: RESET_MFA_HELP, flags: OUTPUT_FLAG, run: runResetMfa },
    "set-password": { help: SET_PASSWORD_HELP, flags: { ...PASSWORD_STDIN, ...OUTPUT_FLAG }, run: runSetPassword },
    delete: { help: DELETE_HELP, flags: {}, run: runDelete },
  },
};

/** Run `holdfast user SUBCOMMAND`. */
export function runUser(ctx: CliContext, argv: readonly string[]): Promise<number> {
  return runGroup(ctx, argv, USER_GROUP);
}
