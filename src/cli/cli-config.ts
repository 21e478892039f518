/**
 * The CLI's own file, `<home>/config.json` (mode 0600): which server, which CA to trust, and the session
 * token from `holdfast login`. `HOLDFAST_TOKEN` (an API token) takes precedence for automation.
 */
import { chmodSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { homePaths } from "../config/index.ts";
import { z } from "zod";

const configSchema = z.object({
  server: z.string().optional(),
  certificateAuthority: z.string().optional(),
  username: z.string().optional(),
  token: z.string().optional(),
  expiresAt: z.string().optional(),
});

export type CliConfig = z.infer<typeof configSchema>;

export function cliConfigPath(home: string): string {
  return homePaths(home).cliConfig;
}

/** The saved configuration; empty when there is none or it cannot be read. */
export function readCliConfig(home: string): CliConfig {
  try {
    return configSchema.parse(JSON.parse(readFileSync(cliConfigPath(home), "utf8")));
  } catch {
    return {};
  }
}

/** Save atomically with mode 0600 (the file holds a session token). */
export function writeCliConfig(home: string, config: CliConfig): void {
  const path = cliConfigPath(home);
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  chmodSync(temporary, 0o600);
  renameSync(temporary, path);
}

/** Forget the session (keeps server and CA). */
export function clearSession(home: string): void {
  const { token: _token, expiresAt: _expiresAt, username: _username, ...rest } = readCliConfig(home);
  if (Object.keys(rest).length === 0) rmSync(cliConfigPath(home), { force: true });
  else writeCliConfig(home, rest);
}
