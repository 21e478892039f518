/** `holdfast init`, `holdfast login`, `holdfast logout`: bootstrap a home and hold a session. */
import { readFileSync } from "node:fs";
import { homePaths } from "../config/index.ts";
import { CliError, boolFlag, parseFlags, stringFlag } from "./args.ts";
import { clearSession, readCliConfig, writeCliConfig } from "./cli-config.ts";
import { ApiClient } from "./client.ts";
import { homeOf, serverUrlOf, trustedCa, type CliContext } from "./context.ts";
import { ask, firstLineOfStdin } from "./prompt.ts";

export const LOGIN_PATH = "/apis/authentication.holdfast.io/v1alpha1/login";
export const LOGOUT_PATH = "/apis/authentication.holdfast.io/v1alpha1/logout";

export const LOGIN_HELP = `Log in to a Holdfast server; the session is kept in <home>/config.json (mode 0600).

Usage:
  holdfast login [--server URL] --username U [--password-stdin] [--totp CODE | --recovery-code CODE]

Flags:
  --server URL            Server (default: https://127.0.0.1:7420)
  --certificate-authority FILE  CA to trust (default: <home>/tls/ca.crt, made by holdfast init)
  --username U            User name
  --password-stdin        Read the password from the first line of standard input (else: prompt)
  --totp CODE             Current code from the authenticator app (else: prompt)
  --recovery-code CODE    A single-use recovery code instead of a TOTP code

Repeated failures slow down (1 s, 2 s, 4 s ... up to 15 min) and lock the account for 15 minutes
after 10 in a row; see docs/security.md.

Examples:
  holdfast login --username admin
  pass show holdfast/admin | holdfast login --username admin --password-stdin --totp 123456
`;

const LOGIN_FLAGS = {
  username: { type: "string" },
  "password-stdin": { type: "boolean" },
  totp: { type: "string" },
  "recovery-code": { type: "string" },
  "certificate-authority": { type: "string" },
} as const;

/** `holdfast login`. */
export async function runLogin(ctx: CliContext, argv: readonly string[]): Promise<number> {
  const args = parseFlags(argv, LOGIN_FLAGS, "login");
  if (boolFlag(args.values, "help")) return help(ctx, LOGIN_HELP);
  const home = homeOf(ctx, args.values);
  const username = stringFlag(args.values, "username") ?? (await ask("Username: ", false));
  const password = boolFlag(args.values, "password-stdin") ? await firstLineOfStdin() : await ask("Password: ", true);
  const recoveryCode = stringFlag(args.values, "recovery-code");
  const totp = recoveryCode === undefined ? (stringFlag(args.values, "totp") ?? (await ask("TOTP code: ", false))) : undefined;
  const server = serverUrlOf(ctx, args.values);
  const caFile = stringFlag(args.values, "certificate-authority") ?? readCliConfig(home).certificateAuthority ?? homePaths(home).tls.caCertificate;
  const client = new ApiClient(server, caOption(home, caFile));
  const answer = (await client.postJson(LOGIN_PATH, { username, password, ...(totp === undefined ? {} : { totp }), ...(recoveryCode === undefined ? {} : { recoveryCode }) })) as { token?: unknown; expiresAt?: unknown };
  if (typeof answer.token !== "string") throw new CliError("the server answered the login without a session token");
  writeCliConfig(home, { ...readCliConfig(home), server, certificateAuthority: caFile, username, token: answer.token, ...(typeof answer.expiresAt === "string" ? { expiresAt: answer.expiresAt } : {}) });
  ctx.io.out(`Logged in to ${server} as ${username}${typeof answer.expiresAt === "string" ? ` (session ends by ${answer.expiresAt})` : ""}\n`);
  return 0;
}

/** `holdfast logout`: revoke the session on the server, then forget it. */
export async function runLogout(ctx: CliContext, argv: readonly string[]): Promise<number> {
  const args = parseFlags(argv, {}, "logout");
  if (boolFlag(args.values, "help")) return help(ctx, "Revoke this CLI's session and forget it.\n\nUsage:\n  holdfast logout\n");
  const home = homeOf(ctx, args.values);
  const config = readCliConfig(home);
  if (config.token === undefined) {
    ctx.io.out("Not logged in.\n");
    return 0;
  }
  const client = new ApiClient(serverUrlOf(ctx, args.values), { token: config.token, ...caOption(home) });
  try {
    await client.postJson(LOGOUT_PATH, {});
  } finally {
    clearSession(home);
  }
  ctx.io.out("Logged out; the session is revoked.\n");
  return 0;
}

function caOption(home: string, file?: string): { ca?: string } {
  const ca = file === undefined ? trustedCa(home) : readPem(file);
  return ca === undefined ? {} : { ca };
}

function readPem(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}

function help(ctx: CliContext, text: string): number {
  ctx.io.out(text);
  return 0;
}
