/**
 * The `mariadb` client: interactive (`cluster connect`) and for one-statement questions (probes). The password is
 * always in an option file (`[client]` group, 0600 in a fresh 0700 directory, removed as soon as the client exits),
 * never argv or environment. (Not the client's stdin: Node's pipes are sockets, which /dev/stdin cannot open.)
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findExecutableSync } from "../host-binaries.ts";
import type { ClientTrust, Credentials, Engine } from "../types.ts";

/** Deadline of one question, connecting included. */
export const QUESTION_TIMEOUT_MS = 5000;

/** The client binary (PATH, /usr/bin). */
export function mariadbClientPath(): string {
  return findExecutableSync("mariadb") ?? "/usr/bin/mariadb";
}

/** An option-file value in double quotes, as the client reads it. */
function optionValue(value: string): string {
  return `"${value.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`;
}

/** The `[client]` option file holding `account`'s name and password. */
export function clientOptionFile(account: Credentials): string {
  return `[client]\nuser = ${optionValue(account.username)}\npassword = ${optionValue(account.password)}\n`;
}

/** TLS options: required and the server's certificate checked against the CA and the host name; none without `trust`. */
export function clientTlsArgs(trust: ClientTrust | undefined): string[] {
  return trust === undefined ? [] : ["--ssl", `--ssl-ca=${trust.caFile}`, "--ssl-verify-server-cert"];
}

/** Where a question goes: loopback unless a host is given. */
export interface MariadbTarget {
  host?: string;
  port: number;
  trust?: ClientTrust | undefined;
}

/** The client's arguments for one question (the option file first, as the client requires). */
export function questionArgs(target: MariadbTarget, optionFile: string, sql: string): string[] {
  return [
    `--defaults-extra-file=${optionFile}`, `--host=${target.host ?? "127.0.0.1"}`, `--port=${target.port}`, "--protocol=TCP",
    `--connect-timeout=${Math.ceil(QUESTION_TIMEOUT_MS / 1000)}`, "--batch", "--skip-column-names", ...clientTlsArgs(target.trust), `--execute=${sql}`,
  ];
}

/** Run `sql` (no secrets in it: it is in argv) as `account`; resolves with the rows (tab-separated fields), rejects with the client's error. */
export async function askMariadb(target: MariadbTarget, account: Credentials, sql: string): Promise<string[][]> {
  const directory = await mkdtemp(join(tmpdir(), "holdfast-mariadb-"));
  try {
    const optionFile = join(directory, "client.cnf");
    await writeFile(optionFile, clientOptionFile(account), { mode: 0o600, flag: "wx" });
    return await runQuestion(target, optionFile, sql);
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}

function runQuestion(target: MariadbTarget, optionFile: string, sql: string): Promise<string[][]> {
  return new Promise((resolve, reject) => {
    const child = spawn(mariadbClientPath(), questionArgs(target, optionFile, sql), { stdio: ["ignore", "pipe", "pipe"], timeout: QUESTION_TIMEOUT_MS });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.once("error", reject);
    child.once("close", (code, signal) => {
      if (code === 0) resolve(stdout.split("\n").filter((line) => line !== "").map((line) => line.split("\t")));
      else reject(new Error(`mariadb on ${target.host ?? "127.0.0.1"}:${target.port} failed (${signal ?? `exit ${code ?? "?"}`}): ${stderr.trim()}`));
    });
  });
}

/**
 * `mariadb` against `host`:`port` as `account`; with `trust`, over TLS checked against its CA and `host`. The
 * password goes in an option file (0600, removed when the client exits) named by the first argument.
 */
export function mariadbClientCommand(host: string, port: number, account: Credentials, trust?: ClientTrust): ReturnType<Engine["clientCommand"]> {
  return {
    command: mariadbClientPath(),
    args: [`--host=${host}`, `--port=${port}`, "--protocol=TCP", ...clientTlsArgs(trust)],
    env: {},
    passwordFile: { argumentPrefix: "--defaults-extra-file=", content: clientOptionFile(account) },
  };
}

/**
 * `mariadb://user:password@host:port/`, user and password URI-encoded; with `trust`, `?ssl-mode=VERIFY_IDENTITY`
 * (the CA is named each client's own way, see docs/usage.md).
 */
export function mariadbConnectionUri(host: string, port: number, account: Credentials, trust?: ClientTrust): string {
  const hostPart = host.includes(":") ? `[${host}]` : host;
  const tls = trust === undefined ? "" : "?ssl-mode=VERIFY_IDENTITY";
  return `mariadb://${encodeURIComponent(account.username)}:${encodeURIComponent(account.password)}@${hostPart}:${port}/${tls}`;
}
