/**
 * pgBackRest beside Holdfast in the backup bench: a plain PostgreSQL of the same major (run as `postgres`, unix
 * socket only, archive_command = pgbackrest archive-push) holding the same pgbench database, a repository on the
 * same disk with `compress-type=zst` and `repo1-cipher-type=aes-256-cbc`, full and incr backups with a given
 * `process-max`, and a restore timed until the restored server answers its first query. Installed from Debian by
 * the bench when it runs as root; otherwise skipped with the reason.
 */
import { randomBytes } from "node:crypto";
import { chmod, chown, mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { run, type CliResult } from "../test/helpers/harness.ts";
import { readTimeReport, timedCommand } from "./peak-memory.ts";

const USER = "postgres";
const PORT = 19180;
const RESTORE_PORT = 19181;
const LONG = 60 * 60_000;

/** One timed pgBackRest operation. */
export interface Measured {
  seconds: number;
  /** Largest max RSS of the pgbackrest processes (bytes). */
  peakBytes: number;
}

/** What the last backup's `pgbackrest info` says. */
export interface BackupSizes {
  databaseBytes: number;
  deltaBytes: number;
  storedBytes: number;
}

/** Why pgBackRest cannot be part of this run, or undefined when it can (installing it when root). */
export async function pgbackrestUnavailable(): Promise<string | undefined> {
  if ((await run("pgbackrest", ["version"]).catch(() => undefined))?.code === 0) return undefined;
  if (process.getuid?.() !== 0) return "pgbackrest is not installed and the bench is not root (apt-get install -y pgbackrest)";
  const installed = await run("apt-get", ["install", "-y", "pgbackrest"], { timeoutMs: 10 * 60_000 });
  if (installed.code !== 0) return `apt-get install -y pgbackrest failed: ${installed.stderr.trim().split("\n").at(-1) ?? ""}`;
  return undefined;
}

/** A plain PostgreSQL with its pgBackRest stanza, in a temporary directory owned by `postgres`. */
export class PgBackRestBench {
  readonly #dir: string;
  readonly #bin: string;
  #restores = 0;

  private constructor(dir: string, major: string) {
    this.#dir = dir;
    this.#bin = `/usr/lib/postgresql/${major}/bin`;
  }

  static async start(major: string, scale: number): Promise<PgBackRestBench> {
    const dir = await mkdtemp("/tmp/holdfast-bench-pgbackrest-");
    const ids = await userIds();
    await chown(dir, ids.uid, ids.gid);
    await chmod(dir, 0o700);
    const bench = new PgBackRestBench(dir, major);
    try {
      await bench.#initialise();
      await bench.#psql(`select 1`);
      await bench.#ok("pgbackrest", [...bench.#common(), "stanza-create"]);
      await bench.#ok("pgbench", ["-i", "-q", "-s", String(scale), "-I", "dtGvp", "-h", dir, "-p", String(PORT), "postgres"]);
      return bench;
    } catch (error) {
      await bench.stop();
      throw error;
    }
  }

  async #initialise(): Promise<void> {
    const data = join(this.#dir, "pg");
    await this.#ok(join(this.#bin, "initdb"), ["-D", data, "-A", "peer", "-U", USER, "--no-sync"]);
    await this.#write(join(this.#dir, "pgbackrest.conf"), [
      "[global]",
      `repo1-path=${join(this.#dir, "repo")}`,
      "repo1-cipher-type=aes-256-cbc",
      `repo1-cipher-pass=${randomBytes(32).toString("base64url")}`,
      "compress-type=zst",
      "start-fast=y",
      "log-level-console=warn",
      "log-level-file=off",
      `lock-path=${join(this.#dir, "lock")}`,
      `spool-path=${join(this.#dir, "spool")}`,
      "[bench]",
      `pg1-path=${data}`,
      `pg1-port=${PORT}`,
      `pg1-socket-path=${this.#dir}`,
    ]);
    const archive = `pgbackrest --config=${join(this.#dir, "pgbackrest.conf")} --stanza=bench archive-push %p`;
    await this.#ok("sh", ["-c", `cat >> '${join(data, "postgresql.conf")}'`], [
      `port = ${PORT}`,
      "listen_addresses = ''",
      `unix_socket_directories = '${this.#dir}'`,
      "archive_mode = on",
      `archive_command = '${archive}'`,
      "max_wal_size = 4GB",
    ].join("\n") + "\n");
    await this.#ok(join(this.#bin, "pg_ctl"), ["-D", data, "-l", join(this.#dir, "server.log"), "-w", "-t", "300", "start"]);
  }

  /** A backup of `type` (full, incr, diff) with `processMax` processes. */
  async backup(type: "full" | "incr", processMax: number): Promise<Measured> {
    return this.#measured("pgbackrest", [...this.#common(), `--process-max=${processMax}`, `--type=${type}`, "backup"]);
  }

  /** The sizes `pgbackrest info` reports for the newest backup. */
  async lastBackupSizes(): Promise<BackupSizes> {
    const info = await this.#ok("pgbackrest", [...this.#common(), "--output=json", "info"]);
    const stanzas = JSON.parse(info.stdout) as Array<{ backup: Array<{ info: { size: number; delta: number; repository: { delta: number } } }> }>;
    const last = stanzas[0]?.backup.at(-1)?.info;
    return { databaseBytes: last?.size ?? Number.NaN, deltaBytes: last?.delta ?? Number.NaN, storedBytes: last?.repository.delta ?? Number.NaN };
  }

  /** Restore the newest backup into a new directory, start it, and time until it answers a query. */
  async restoreToFirstQuery(processMax: number): Promise<{ restore: Measured; toFirstQuery: number }> {
    const target = join(this.#dir, `restore-${this.#restores++}`);
    const started = performance.now();
    const restore = await this.#measured("pgbackrest", [...this.#common(), `--process-max=${processMax}`, `--pg1-path=${target}`, "restore"]);
    const options = `-c port=${RESTORE_PORT} -c archive_mode=off -c listen_addresses='' -c unix_socket_directories='${this.#dir}'`;
    try {
      await this.#ok(join(this.#bin, "pg_ctl"), ["-D", target, "-l", `${target}.log`, "-o", options, "-w", "-t", "600", "start"]);
      await this.#ok("psql", ["-X", "-h", this.#dir, "-p", String(RESTORE_PORT), "-d", "postgres", "-c", "select count(*) from pgbench_branches"]);
      return { restore, toFirstQuery: (performance.now() - started) / 1000 };
    } finally {
      await this.#as(join(this.#bin, "pg_ctl"), ["-D", target, "-m", "immediate", "stop"]);
      await rm(target, { recursive: true, force: true });
      await rm(`${target}.log`, { force: true });
    }
  }

  /** Run SQL on the source database as `postgres`. */
  async sql(statement: string): Promise<void> {
    await this.#psql(statement);
  }

  async stop(): Promise<void> {
    await this.#as(join(this.#bin, "pg_ctl"), ["-D", join(this.#dir, "pg"), "-m", "immediate", "stop"]);
    await rm(this.#dir, { recursive: true, force: true });
  }

  #common(): string[] {
    return [`--config=${join(this.#dir, "pgbackrest.conf")}`, "--stanza=bench"];
  }

  async #psql(statement: string): Promise<void> {
    await this.#ok("psql", ["-X", "-v", "ON_ERROR_STOP=1", "-h", this.#dir, "-p", String(PORT), "-d", "postgres", "-c", statement]);
  }

  async #measured(command: string, args: readonly string[]): Promise<Measured> {
    const report = join(this.#dir, `time-${randomBytes(4).toString("hex")}`);
    const wrapped = timedCommand(command, args, report);
    const started = performance.now();
    await this.#ok(wrapped.command, wrapped.args);
    const seconds = (performance.now() - started) / 1000;
    return { seconds, peakBytes: await readTimeReport(report) };
  }

  async #write(file: string, lines: readonly string[]): Promise<void> {
    await this.#ok("sh", ["-c", `umask 077 && cat > '${file}'`], lines.join("\n") + "\n");
  }

  /** `command args` as `postgres`, failing on a non-zero exit. */
  async #ok(command: string, args: readonly string[], input?: string): Promise<CliResult> {
    const result = await this.#as(command, args, input);
    if (result.code !== 0) throw new Error(`${command} ${args.at(-1) ?? ""} failed (${result.code}): ${result.stderr.trim()}`);
    return result;
  }

  #as(command: string, args: readonly string[], input?: string): Promise<CliResult> {
    return run("runuser", ["-u", USER, "--", command, ...args], { timeoutMs: LONG, ...(input === undefined ? {} : { input }) });
  }
}

async function userIds(): Promise<{ uid: number; gid: number }> {
  const [uid, gid] = await Promise.all([run("id", ["-u", USER]), run("id", ["-g", USER])]);
  if (uid.code !== 0) throw new Error(`there is no ${USER} user to run PostgreSQL and pgBackRest as`);
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}
