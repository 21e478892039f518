/**
 * A client that keeps writing from inside one lab host, through libpq: `psql` run in the host's namespace, fed one
 * INSERT at a time on stdin; each answer line is an acknowledged write, timed here when it arrives. psql exits on any
 * error (ON_ERROR_STOP, a lost connection, a read-only server) and is started again at once, so the connection string
 * decides where writes go: a Holdfast read-write endpoint, or libpq's multi-host `target_session_attrs=read-write`.
 * The same client for both systems: the difference measured is the failover, not the driver.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import type { LabHostPlan } from "../src/lab/index.ts";

/** One acknowledged write: its id, when (performance.now()) and which server (data directory and start time) committed it. */
export interface Ack {
  id: number;
  at: number;
  server: string;
}

/** Where a writer connects: a libpq connection string without a password (that is in the 0600 pgpass file). */
export interface WriterTarget {
  conninfo: string;
  /** How many hosts libpq may try in turn (each up to connect_timeout): how long a first answer may take. */
  hosts: number;
  passFile: string;
}

/** libpq settings every writer uses: a dead peer is noticed in about a second, a connection attempt gives up after 2 s (libpq's minimum). */
export const CLIENT_SETTINGS = "connect_timeout=2 tcp_user_timeout=1000 keepalives=1 keepalives_idle=1 keepalives_interval=1 keepalives_count=1";
/** An answer that takes longer than this on an established connection: the connection is dropped and made again. */
const QUERY_TIMEOUT_MS = 2_000;
const CONNECT_TIMEOUT_MS = 2_000;
const ANSWER = /^(\d+)\|(.*)$/;
/** A pause between writes: enough resolution for failovers of hundreds of ms, less load on a shared machine. */
const PACE_MS = 10;

/** Inserts into `bench_writes` from inside `host` until stopped. */
export class LabWriter {
  readonly acknowledged: Ack[] = [];
  lastError = "";
  restarts = 0;
  #running = true;
  #next: number;
  #child: ChildProcessWithoutNullStreams | undefined;
  #loop: Promise<void> = Promise.resolve();

  /** `firstId`: ids must not repeat across writers on one table (a primary key). */
  readonly host: LabHostPlan;
  readonly #target: WriterTarget;

  private constructor(host: LabHostPlan, target: WriterTarget, firstId: number) {
    this.host = host;
    this.#target = target;
    this.#next = firstId;
  }

  static start(host: LabHostPlan, target: WriterTarget, firstId: number): LabWriter {
    const writer = new LabWriter(host, target, firstId);
    writer.#loop = writer.#run();
    return writer;
  }

  async #run(): Promise<void> {
    while (this.#running) {
      await this.#session();
      this.restarts++;
      await sleep(20);
    }
  }

  /** One psql process: write until it exits or an answer is late (then it is killed). */
  async #session(): Promise<void> {
    const child = spawn("ip", ["netns", "exec", this.host.namespace, "stdbuf", "-oL", "psql", "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", this.#target.conninfo], {
      env: { ...process.env, PGPASSFILE: this.#target.passFile },
      stdio: ["pipe", "pipe", "pipe"],
    });
    this.#child = child;
    const exited = new Promise<void>((resolve) => child.once("close", () => resolve()));
    child.on("error", (error) => (this.lastError = String(error)));
    child.stdin.on("error", () => undefined);
    child.stderr.on("data", (chunk: Buffer) => {
      const text = chunk.toString().trim();
      if (text !== "") this.lastError = text.split("\n").at(-1) ?? text;
    });
    let answered = false;
    let timer: NodeJS.Timeout | undefined;
    const send = (): void => {
      clearTimeout(timer);
      // A fresh psql first connects: libpq may try every host in turn before the first answer.
      const limit = answered ? QUERY_TIMEOUT_MS : QUERY_TIMEOUT_MS + CONNECT_TIMEOUT_MS * this.#target.hosts;
      timer = setTimeout(() => child.kill("SIGKILL"), limit);
      const id = this.#next++;
      child.stdin.write(`INSERT INTO bench_writes (id) VALUES (${id}) RETURNING id || '|' || current_setting('data_directory') || ' ' || pg_postmaster_start_time();\n`);
    };
    let buffered = "";
    child.stdout.on("data", (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split("\n");
      buffered = lines.pop() ?? "";
      for (const line of lines) {
        const match = ANSWER.exec(line.trim());
        if (match === null) continue;
        this.acknowledged.push({ id: Number(match[1]), at: performance.now(), server: match[2] ?? "" });
        answered = true;
        clearTimeout(timer);
        if (this.#running) timer = setTimeout(send, PACE_MS);
      }
    });
    send();
    await exited;
    clearTimeout(timer);
    this.#child = undefined;
  }

  /** Wait until `count` writes were acknowledged; false on timeout. */
  async waitFor(count: number, timeoutMs: number): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    while (this.acknowledged.length < count) {
      if (performance.now() > deadline) return false;
      await sleep(20);
    }
    return true;
  }

  /** The server that acknowledged the latest write. */
  lastServer(): string | undefined {
    return this.acknowledged.at(-1)?.server;
  }

  /**
   * The first acknowledgement after `t` by a server other than `notBy`, or undefined after `timeoutMs`: backends of a
   * killed or isolated primary may still answer for a moment, which is not the new primary answering.
   */
  async firstAfter(t: number, notBy: string | undefined, timeoutMs: number): Promise<Ack | undefined> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const found = this.acknowledged.find((a) => a.at > t && a.server !== notBy);
      if (found !== undefined) return found;
      if (performance.now() > deadline) return undefined;
      await sleep(5);
    }
  }

  /** The last acknowledgement by `server`, if any. */
  lastBy(server: string | undefined): Ack | undefined {
    return this.acknowledged.findLast((a) => a.server === server);
  }

  async stop(): Promise<void> {
    this.#running = false;
    this.#child?.kill("SIGKILL");
    await this.#loop;
  }

  /** What this writer ran and where, for a diagnosis. */
  describe(): string {
    return `writer in ${this.host.name}: ${this.acknowledged.length} writes acknowledged, ${this.restarts} psql restarts, last error: ${this.lastError || "none"}`;
  }
}
