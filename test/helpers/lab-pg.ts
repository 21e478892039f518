/**
 * PostgreSQL clients inside a lab's hosts, for the multihost tests: a writer that records every acknowledged insert,
 * and a sampler of which instances run as primary, each a `lab-pg-client.ts` process in a host's namespace (killed
 * with the host when the host is killed). Times are wall-clock milliseconds (`wallClock()`), the same in every process.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { inNamespace } from "../../src/lab/index.ts";

const CLIENT = join(import.meta.dirname, "lab-pg-client.ts");

/** Milliseconds on the wall clock, comparable with the clients' times. */
export function wallClock(): number {
  return performance.timeOrigin + performance.now();
}

/** One `lab-pg-client.ts` process inside `namespace`: its JSON lines as they come. */
class LabClientProcess<Line> {
  readonly lines: Line[] = [];
  /** The writer's failed connections and writes (`{"failure","at"}` lines). */
  readonly failures: LabWriteFailure[] = [];
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #exited: Promise<void>;
  stderr = "";

  constructor(namespace: string, request: object) {
    const [command = "ip", ...args] = inNamespace(namespace, [process.execPath, "--disable-warning=ExperimentalWarning", CLIENT]);
    this.#child = spawn(command, args, { stdio: ["pipe", "pipe", "pipe"] });
    this.#exited = new Promise((resolve) => this.#child.once("close", () => resolve()));
    createInterface({ input: this.#child.stdout }).on("line", (line) => {
      const parsed = JSON.parse(line) as Line | LabWriteFailure;
      if (typeof parsed === "object" && parsed !== null && "failure" in parsed) this.failures.push(parsed);
      else this.lines.push(parsed);
    });
    this.#child.stderr.on("data", (chunk: Buffer) => (this.stderr = (this.stderr + chunk.toString()).slice(-4000)));
    this.#child.stdin.on("error", () => undefined);
    this.#child.stdin.end(JSON.stringify(request));
  }

  /** Stop it (SIGTERM: it flushes what it has) and wait until it is gone; at once when it is gone already. */
  async stop(): Promise<void> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill("SIGTERM");
    await this.#exited;
  }
}

/** One acknowledged insert: its id, when (wall clock), and the server (port and start time) that committed it. */
export interface LabAcknowledgedWrite {
  id: number;
  at: number;
  server: string;
}

/** A connection or write of a writer that failed: why, and when (wall clock). */
export interface LabWriteFailure {
  failure: string;
  at: number;
}

/** Inserts into `table` (id bigint primary key) through `uri` from inside `namespace`, as PgWriter does. */
export class LabWriter {
  readonly table: string;
  readonly #process: LabClientProcess<LabAcknowledgedWrite>;

  constructor(namespace: string, uri: string, table: string) {
    this.table = table;
    this.#process = new LabClientProcess(namespace, { mode: "write", uri, table });
  }

  get acknowledged(): readonly LabAcknowledgedWrite[] {
    return this.#process.lines;
  }

  get stderr(): string {
    return this.#process.stderr;
  }

  get failures(): readonly LabWriteFailure[] {
    return this.#process.failures;
  }

  /** The first write acknowledged after `t` by a server other than `notBy`. */
  firstAfter(t: number, notBy?: string): LabAcknowledgedWrite | undefined {
    return this.acknowledged.find((a) => a.at > t && a.server !== notBy);
  }

  stop(): Promise<void> {
    return this.#process.stop();
  }
}

/** One answer of one instance: primary (true), in recovery (false), or no answer (null). */
export interface RoleSample {
  at: number;
  name: string;
  primary: boolean | null;
}

/** Asks the `targets` (instance name → URI, the instances of one host) every 100 ms whether they run as primary. */
export class LabRoleSampler {
  readonly #process: LabClientProcess<RoleSample>;

  constructor(namespace: string, targets: Record<string, string>) {
    this.#process = new LabClientProcess(namespace, { mode: "sample", targets });
  }

  get samples(): readonly RoleSample[] {
    return this.#process.lines;
  }

  stop(): Promise<void> {
    return this.#process.stop();
  }
}

/** A stretch of time an instance answered as primary at every sample, from its first such answer to its last. */
interface PrimaryRun {
  name: string;
  from: number;
  to: number;
}

/** Longest pause between two samples that still counts as one unbroken run (a sampler that died breaks it). */
const MAX_SAMPLE_GAP_MS = 1000;

function primaryRuns(samples: readonly RoleSample[]): PrimaryRun[] {
  const runs: PrimaryRun[] = [];
  const byName = Map.groupBy(samples, (s) => s.name);
  for (const [name, own] of byName) {
    let current: PrimaryRun | undefined;
    let last = -Infinity;
    for (const s of [...own].sort((a, b) => a.at - b.at)) {
      const broken = s.primary !== true || s.at - last > MAX_SAMPLE_GAP_MS;
      if (broken && current !== undefined) runs.push(current);
      if (broken) current = undefined;
      if (s.primary === true) current = current === undefined ? { name, from: s.at, to: s.at } : { ...current, to: s.at };
      last = s.at;
    }
    if (current !== undefined) runs.push(current);
  }
  return runs;
}

/**
 * Every moment two instances answered as primary, from samples taken on different hosts (and so also across a
 * partition): two runs of different instances that overlap in time, each described with its bounds.
 */
export function twoPrimaries(samples: readonly RoleSample[]): string[] {
  const runs = primaryRuns(samples).sort((a, b) => a.from - b.from);
  const doubles: string[] = [];
  for (const [i, run] of runs.entries()) {
    for (const other of runs.slice(i + 1)) {
      if (other.from > run.to) break;
      if (other.name !== run.name) doubles.push(`${run.name} [${run.from.toFixed(0)}, ${run.to.toFixed(0)}] and ${other.name} [${other.from.toFixed(0)}, ${other.to.toFixed(0)}]`);
    }
  }
  return doubles;
}
