/** What every command is handed: where to write, the environment, the clock, and how to reach the server. */
import { readFileSync } from "node:fs";
import { DEFAULT_API_HOST, DEFAULT_API_PORT, homePaths, resolveHome } from "../config/index.ts";
import { readCliConfig } from "./cli-config.ts";
import { ApiClient } from "./client.ts";
import { warningLines } from "./warnings.ts";
import { stringFlag } from "./args.ts";
import type { FlagValues } from "./args.ts";

/** Output streams; injected so commands can be tested without a terminal. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** Is stderr a terminal (progress lines are shown only then)? */
  errIsTTY: boolean;
}

/** The environment a command runs in. */
export interface CliContext {
  io: Io;
  env: NodeJS.ProcessEnv;
  now(): Date;
}

/** A context over the real process streams. */
export function processContext(): CliContext {
  return {
    io: {
      out: (text) => process.stdout.write(text),
      err: (text) => process.stderr.write(text),
      errIsTTY: process.stderr.isTTY,
    },
    env: process.env,
    now: () => new Date(),
  };
}

/** Contents of `<home>/server.json`, written by a running server. */
export interface ServerInfo {
  url: string;
  pid: number;
  startedAt?: string;
}

/** Read `<home>/server.json`; undefined when absent or unreadable. */
export function readServerInfo(home: string): ServerInfo | undefined {
  let text: string;
  try {
    text = readFileSync(homePaths(home).serverInfo, "utf8");
  } catch {
    return undefined;
  }
  try {
    const parsed = JSON.parse(text) as Partial<ServerInfo>;
    if (typeof parsed.url !== "string" || typeof parsed.pid !== "number") return undefined;
    return { url: parsed.url, pid: parsed.pid, ...(typeof parsed.startedAt === "string" ? { startedAt: parsed.startedAt } : {}) };
  } catch {
    return undefined;
  }
}

/** The Holdfast home for these flags: `--home`, `HOLDFAST_HOME`, `~/.holdfast`. */
export function homeOf(ctx: CliContext, values: FlagValues): string {
  return resolveHome(stringFlag(values, "home"), ctx.env);
}

/** Server URL: `--server`, `HOLDFAST_SERVER`, the CLI config, the home's server.json, the default address. */
export function serverUrlOf(ctx: CliContext, values: FlagValues): string {
  const home = homeOf(ctx, values);
  const chosen =
    stringFlag(values, "server") ??
    ctx.env["HOLDFAST_SERVER"] ??
    readCliConfig(home).server ??
    readServerInfo(home)?.url ??
    `https://${DEFAULT_API_HOST}:${DEFAULT_API_PORT}`;
  return chosen.replace(/\/+$/, "");
}

/** The file of the CA to trust: the CLI config's, else the one `holdfast init` made in this home. */
export function trustedCaFile(home: string): string {
  return readCliConfig(home).certificateAuthority ?? homePaths(home).tls.caCertificate;
}

/** The CA to trust: the CLI config's, else the one `holdfast init` made in this home. */
export function trustedCa(home: string): string | undefined {
  const file = trustedCaFile(home);
  try {
    return readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}

/** An API client for the server these flags point at, with the saved session (or HOLDFAST_TOKEN) and CA. */
export function clientOf(ctx: CliContext, values: FlagValues): ApiClient {
  const home = homeOf(ctx, values);
  const token = ctx.env["HOLDFAST_TOKEN"] ?? readCliConfig(home).token;
  const ca = trustedCa(home);
  const onWarning = (text: string): void => ctx.io.err(warningLines([text]));
  return new ApiClient(serverUrlOf(ctx, values), { onWarning, ...(token === undefined ? {} : { token }), ...(ca === undefined ? {} : { ca }) });
}
