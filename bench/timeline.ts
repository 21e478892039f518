/**
 * A timeline of what the store says during a failover (`BENCH_FAILOVER_TRACE=1`): watches on the cluster and its
 * instances through the API, each change reduced to the fields a role change moves (role, readiness, phase, the
 * primary lease, spec.replication, the cluster's role change step and endpoints), printed with its time after the kill.
 */
import { createInterface } from "node:readline";
import { Readable } from "node:stream";
import type { TestServer } from "../test/helpers/harness.ts";

interface Entry {
  at: number;
  what: string;
}

/** Follows `paths` (API collection paths) with `?watch=true` until `stop()`; keeps one line per change that matters. */
export class Timeline {
  readonly #entries: Entry[] = [];
  readonly #last = new Map<string, string>();
  readonly #aborts: AbortController[] = [];

  static async follow(server: TestServer, paths: readonly string[]): Promise<Timeline> {
    const timeline = new Timeline();
    for (const path of paths) await timeline.#watch(server, path);
    return timeline;
  }

  /** The entries from `from` on (ms on the performance clock), as lines "+123 ms what". */
  since(from: number): string[] {
    return this.#entries.filter((entry) => entry.at >= from - 50).map((entry) => `${`+${(entry.at - from).toFixed(0)}`.padStart(6)} ms  ${entry.what}`);
  }

  stop(): void {
    for (const abort of this.#aborts) abort.abort();
  }

  async #watch(server: TestServer, path: string): Promise<void> {
    const abort = new AbortController();
    this.#aborts.push(abort);
    // Aborting the request ends the stream (the stream is locked to its reader: cancelling it directly would not).
    const response = await server.fetch(`${path}?watch=true`, { signal: abort.signal });
    if (response.body === null) throw new Error(`no watch stream for ${path}`);
    const input = Readable.fromWeb(response.body as never);
    const lines = createInterface({ input });
    // An aborted request, or the server going away, ends the stream with an error: the end of the watch, not the bench's.
    input.on("error", () => lines.close());
    void (async () => {
      try {
        for await (const line of lines) this.#record(line);
      } catch {
        // Stopped.
      }
    })();
  }

  #record(line: string): void {
    const at = performance.now();
    const event = JSON.parse(line) as { type: string; object: { kind: string; metadata: { name: string }; spec?: Record<string, unknown>; status?: Record<string, unknown> } };
    const { kind, metadata, spec, status } = event.object;
    const summary = kind === "Cluster" ? clusterSummary(status) : instanceSummary(spec, status);
    const key = `${kind}/${metadata.name}`;
    if (this.#last.get(key) === summary) return;
    this.#last.set(key, summary);
    this.#entries.push({ at, what: `${metadata.name}: ${summary}` });
  }
}

function clusterSummary(status: Record<string, unknown> | undefined): string {
  return JSON.stringify({ replication: status?.["replication"], endpoints: status?.["endpoints"] });
}

function instanceSummary(spec: Record<string, unknown> | undefined, status: Record<string, unknown> | undefined): string {
  const lease = status?.["primaryLease"] as { holder?: string } | undefined;
  const replication = status?.["replication"] as { state?: string } | undefined;
  return JSON.stringify({
    role: status?.["role"],
    ready: status?.["ready"],
    phase: status?.["phase"],
    pid: status?.["pid"],
    lease: lease?.holder === undefined ? undefined : "held",
    streaming: replication?.state,
    held: status?.["replicationState"],
    spec: spec?.["replication"],
  });
}
