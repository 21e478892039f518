/**
 * The real `mariadb` client as the MariaDB tests and benches drive it: each account's password in an option file
 * (0600) in a private directory, never on the command line; TLS checked against the cluster's CA when one is given.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { run, type CliResult } from "./harness.ts";

/**
 * The real `mariadb` client over TLS verified against `caFile`, as the account of `url` (a cluster's URI, `cluster
 * connect --show-uri`), in batch mode without column names; the option file comes on a real pipe, never argv.
 */
export function mariadbOverTls(url: URL, caFile: string, text: string): Promise<CliResult> {
  const options = `[client]\nuser=${decodeURIComponent(url.username)}\npassword=${decodeURIComponent(url.password)}\n`;
  const script = `exec mariadb --defaults-extra-file=/dev/stdin "$@" <<'EOF'\n${options}EOF`;
  return run("sh", ["-c", script, "mariadb", `--host=${url.hostname}`, `--port=${url.port}`, "--protocol=TCP", "--ssl", `--ssl-ca=${caFile}`, "--ssl-verify-server-cert", "-N", "-B", "-e", text], { timeoutMs: 120_000 });
}

/** CHECKSUM TABLE of every table outside the system schemas (at least four of them), by name, asked through `sql`. */
export async function userTableChecksums(sql: (text: string) => Promise<string>): Promise<Record<string, string>> {
  const tables = (await sql("SELECT CONCAT(table_schema, '.', table_name) FROM information_schema.tables WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('mysql', 'sys', 'information_schema', 'performance_schema') ORDER BY 1")).split("\n");
  assert.ok(tables.length >= 4, tables.join(","));
  const rows = (await sql(`CHECKSUM TABLE ${tables.join(", ")}`)).split("\n").map((line) => line.split("\t"));
  return Object.fromEntries(rows.map(([name = "", sum = ""]) => [name, sum]));
}

/** Options of one question: the account, the connect timeout, and whether the output starts with the column names. */
export interface MariadbQuestion {
  user?: string;
  connectTimeoutS?: number;
  columnNames?: boolean;
}

export class MariadbCli {
  readonly directory: string;
  readonly #caFile: string | undefined;

  private constructor(directory: string, caFile: string | undefined) {
    this.directory = directory;
    this.#caFile = caFile;
  }

  /** A client with a new private directory; `caFile` (the cluster's CA) makes every connection TLS, verified. */
  static async create(caFile?: string): Promise<MariadbCli> {
    return new MariadbCli(await mkdtemp(join(tmpdir(), "holdfast-mariadb-client-")), caFile);
  }

  optionFile(user = "root"): string {
    return join(this.directory, `${user}.cnf`);
  }

  /** Remember `user`'s password (in its option file, 0600). */
  async setPassword(user: string, password: string): Promise<void> {
    await writeFile(this.optionFile(user), `[client]\nuser=${user}\npassword=${password}\n`, { mode: 0o600 });
  }

  /** Run `sql` against 127.0.0.1:`port` in batch mode (tab-separated rows). */
  run(port: number, sql: string, question: MariadbQuestion = {}): Promise<CliResult> {
    const { user = "root", connectTimeoutS = 10, columnNames = false } = question;
    const args = [`--defaults-extra-file=${this.optionFile(user)}`, "--host=127.0.0.1", `--port=${port}`, "--protocol=TCP", `--connect-timeout=${connectTimeoutS}`];
    const tls = this.#caFile === undefined ? [] : ["--ssl", `--ssl-ca=${this.#caFile}`, "--ssl-verify-server-cert"];
    return run("mariadb", [...args, ...tls, ...(columnNames ? [] : ["-N"]), "-B", "-e", sql], { timeoutMs: 30_000 });
  }

  /** Run `sql` as root and return its output, failing the caller unless it succeeds. */
  async sql(port: number, text: string): Promise<string> {
    const result = await this.run(port, text);
    assert.equal(result.code, 0, result.stderr);
    return result.stdout.trim();
  }

  async remove(): Promise<void> {
    await rm(this.directory, { recursive: true, force: true });
  }
}

/**
 * Inserts one row after another into `table` through `port` (a new client each time, as a reconnecting application);
 * remembers each acknowledged id, when (performance clock) and which server (`@@server_id`) committed it.
 */
export class MariadbWriter {
  readonly acknowledged: { id: number; at: number; serverId: string }[] = [];
  failures = 0;
  #running = true;
  readonly #loop: Promise<void>;

  constructor(cli: MariadbCli, port: number, firstId: number, table = "ha.writes") {
    this.#loop = this.#run(cli, port, firstId, table);
  }

  async #run(cli: MariadbCli, port: number, firstId: number, table: string): Promise<void> {
    for (let id = firstId; this.#running; id++) {
      const result = await cli.run(port, `INSERT INTO ${table} (id) VALUES (${id}); SELECT @@server_id`, { connectTimeoutS: 5 });
      if (result.code === 0) this.acknowledged.push({ id, at: performance.now(), serverId: result.stdout.trim() });
      else {
        this.failures++;
        await sleep(20);
      }
    }
  }

  /** Stop writing; the acknowledged ids. */
  async stop(): Promise<number[]> {
    this.#running = false;
    await this.#loop;
    return this.acknowledged.map((a) => a.id);
  }
}
