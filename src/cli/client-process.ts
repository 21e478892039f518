/** Running a database client (psql, redis-cli, mariadb) with the terminal, its password in a private file. */
import { spawn } from "node:child_process";
import { rmSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { constants } from "node:os";
import type { ClientPasswordFile } from "../engines/index.ts";
import { CliError } from "./args.ts";

/** What an engine's clientCommand returns. */
export interface ClientCommand {
  command: string;
  args: string[];
  env: Record<string, string>;
  passwordFile?: ClientPasswordFile;
}

/** Write the password file into a fresh 0700 directory; returns the directory and the file. */
async function writePasswordFile(content: string): Promise<{ dir: string; file: string }> {
  const dir = await mkdtemp(join(tmpdir(), "holdfast-connect-"));
  const file = join(dir, "credentials");
  await writeFile(file, content, { mode: 0o600, flag: "wx" });
  return { dir, file };
}

function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  const number = signal === null ? undefined : constants.signals[signal];
  return number === undefined ? 1 : 128 + number;
}

/** Spawn the client with inherited stdio and wait for it; the password file is removed when it exits, also on signals. */
export async function runClientProcess(spec: ClientCommand, installHint: string): Promise<number> {
  const secret = spec.passwordFile === undefined ? undefined : await writePasswordFile(spec.passwordFile.content);
  const cleanup = (): void => {
    if (secret !== undefined) rmSync(secret.dir, { recursive: true, force: true });
  };
  const env: NodeJS.ProcessEnv = { ...process.env, ...spec.env };
  const args = [...spec.args];
  if (spec.passwordFile !== undefined && secret !== undefined) {
    if ("envVar" in spec.passwordFile) env[spec.passwordFile.envVar] = secret.file;
    else args.unshift(`${spec.passwordFile.argumentPrefix}${secret.file}`);
  }
  const child = spawn(spec.command, args, { stdio: "inherit", env });
  // Ctrl-C reaches the client from the terminal (psql cancels the query); we must outlive it to clean up.
  const ignoreInterrupt = (): void => undefined;
  const forward = (signal: NodeJS.Signals): void => {
    child.kill(signal);
  };
  process.on("SIGINT", ignoreInterrupt);
  process.on("SIGTERM", forward);
  process.on("SIGHUP", forward);
  process.on("exit", cleanup);
  try {
    return await new Promise<number>((resolve, reject) => {
      child.once("error", (error: NodeJS.ErrnoException) => {
        reject(error.code === "ENOENT" ? new CliError(`${spec.command} was not found on this host; ${installHint}`) : error);
      });
      child.once("exit", (code, signal) => resolve(exitCodeOf(code, signal)));
    });
  } finally {
    process.off("SIGINT", ignoreInterrupt);
    process.off("SIGTERM", forward);
    process.off("SIGHUP", forward);
    process.off("exit", cleanup);
    if (secret !== undefined) await rm(secret.dir, { recursive: true, force: true });
  }
}
