/**
 * The `mariadb` client: interactive (`cluster connect`) and for one-statement questions (probes). The password is
 * always in an option file (`[client]` group, 0600 in a fresh 0700 directory, removed as soon as the client exits),
 * never argv or environment. (Not the client's stdin: Node's pipes are sockets, which /dev/stdin cannot open.)
 * Every question starts with `SELECT CONNECTION_ID()`, unbuffered: the id is noted in HOLDFAST_SESSIONS as soon as
 * the server accepted the client, so the login watch knows the audit log's line of this login for Holdfast's own.
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findExecutableSync } from "../host-binaries.ts";
import { HOLDFAST_SESSIONS } from "../own-sessions.ts";
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
  /** The server's unix socket (its run directory): asked there instead of over TCP (secure transport without TLS files). */
  socket?: string;
}

/** Where the client connects: the socket when the target names one, else TCP (with TLS when it has a trust). */
function connectionArgs(target: MariadbTarget): string[] {
  if (target.socket !== undefined) return [`--socket=${target.socket}`, "--protocol=SOCKET"];
  return [`--host=${target.host ?? "127.0.0.1"}`, `--port=${target.port}`, "--protocol=TCP", ...clientTlsArgs(target.trust)];
}

/** The statement every question starts with: its one row is the connection's id (and a header line with column names). */
export const CONNECTION_ID_SQL = "SELECT CONNECTION_ID();";

/**
 * The client's arguments for one question (the option file first, as the client requires); without `sql`, statements
 * come on stdin. Unbuffered, so the connection id is printed before the rest runs.
 */
export function questionArgs(target: MariadbTarget, optionFile: string, sql?: string, columnNames = false): string[] {
  return [
    `--defaults-extra-file=${optionFile}`, ...connectionArgs(target),
    `--connect-timeout=${Math.ceil(QUESTION_TIMEOUT_MS / 1000)}`, "--batch", "--unbuffered", ...(columnNames ? [] : ["--skip-column-names"]),
    ...(sql === undefined ? [] : [`--execute=${CONNECTION_ID_SQL} ${sql}`]),
  ];
}

/**
 * Reads the connection id off the start of a question's output as it comes, and gives the rest: the id's line, after
 * its header line when the output has column names.
 */
export class ConnectionIdReader {
  readonly #lines: number;
  readonly #told: (id: number) => void;
  #text = "";
  #done = false;

  constructor(columnNames: boolean, told: (id: number) => void) {
    this.#lines = columnNames ? 2 : 1;
    this.#told = told;
  }

  /** Take more output; the id is told once its line is whole. */
  push(chunk: string): void {
    this.#text += chunk;
    if (this.#done) return;
    const lines = this.#text.split("\n");
    if (lines.length <= this.#lines) return;
    this.#done = true;
    const id = Number(lines[this.#lines - 1]);
    if (Number.isSafeInteger(id) && id > 0) this.#told(id);
  }

  /** The output after the id. */
  rest(): string {
    return this.#text.split("\n").slice(this.#lines).join("\n");
  }
}

/** How one client run is asked: its statements in argv (no secrets) or on stdin, and whether rows come with a header. */
interface Question {
  sql?: string;
  stdin?: string;
  columnNames?: boolean;
  timeoutMs?: number;
}

/** Run the client with an option file holding `account`, removed when it exits; resolves with its rows. */
async function withOptionFile(target: MariadbTarget, account: Credentials, question: Question): Promise<string[][]> {
  const directory = await mkdtemp(join(tmpdir(), "holdfast-mariadb-"));
  try {
    const optionFile = join(directory, "client.cnf");
    await writeFile(optionFile, clientOptionFile(account), { mode: 0o600, flag: "wx" });
    return await runClient(target, questionArgs(target, optionFile, question.sql, question.columnNames), question);
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}

/** Run `sql` (no secrets in it: it is in argv) as `account`; resolves with the rows (tab-separated fields), rejects with the client's error. */
export function askMariadb(target: MariadbTarget, account: Credentials, sql: string): Promise<string[][]> {
  return withOptionFile(target, account, { sql });
}

/** Run `sql` (no secrets) as `account`; one record per row, keyed by column name (SHOW SLAVE STATUS and the like). */
export async function askMariadbRecords(target: MariadbTarget, account: Credentials, sql: string): Promise<Record<string, string>[]> {
  const [header = [], ...rows] = await withOptionFile(target, account, { sql, columnNames: true });
  return rows.map((row) => Object.fromEntries(header.map((name, i) => [name, row[i] ?? ""])));
}

/**
 * Run `script` as `account`, its statements on the client's stdin (never argv): for statements that carry a secret
 * (CHANGE MASTER TO … MASTER_PASSWORD, CREATE USER … PASSWORD). Resolves with the rows of its last results.
 */
export function runMariadbScript(target: MariadbTarget, account: Credentials, script: string, timeoutMs = QUESTION_TIMEOUT_MS): Promise<string[][]> {
  return withOptionFile(target, account, { stdin: script, timeoutMs });
}

/** The client's error without the statement text a syntax error quotes (`near '…'`): a script's may hold a password. */
export function withoutStatementText(error: string): string {
  const near = error.indexOf(" near '");
  return near === -1 ? error : `${error.slice(0, near)} (statement text left out)`;
}

function runClient(target: MariadbTarget, args: string[], question: Question): Promise<string[][]> {
  return new Promise((resolve, reject) => {
    const child = spawn(mariadbClientPath(), args, { stdio: ["pipe", "pipe", "pipe"], timeout: question.timeoutMs ?? QUESTION_TIMEOUT_MS });
    let stderr = "";
    const output = new ConnectionIdReader(question.columnNames === true, (id) => HOLDFAST_SESSIONS.connected(target.port, id));
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => output.push(chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    // A client that exits early (bad credentials) closes its stdin: that error is told by its exit.
    child.stdin.on("error", () => undefined);
    child.stdin.end(question.stdin === undefined ? "" : `${CONNECTION_ID_SQL}\n${question.stdin}`);
    child.once("error", reject);
    child.once("close", (code, signal) => {
      if (code === 0) resolve(output.rest().split("\n").filter((line) => line !== "").map((line) => line.split("\t")));
      else reject(new Error(`mariadb on ${target.host ?? "127.0.0.1"}:${target.port} failed (${signal ?? `exit ${code ?? "?"}`}): ${withoutStatementText(stderr.trim())}`));
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
