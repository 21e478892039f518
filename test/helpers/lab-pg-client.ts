/**
 * A PostgreSQL client run inside a lab host's namespace (the test process, in the root namespace, has no route to the
 * lab network): `node lab-pg-client.ts` reads what to do as JSON on stdin (connection URIs hold passwords: never argv)
 * and prints one JSON line per event on stdout, times on the wall clock in milliseconds, until SIGTERM.
 *  - `{"mode":"write","uri":…,"table":…}`: PgWriter's inserts; a line `{"id","at","server"}` per acknowledged write,
 *    and `{"failure","at"}` per failed connection or write.
 *  - `{"mode":"sample","targets":{NAME:URI,…}}`: every 100 ms asks each target whether it runs as primary; a line
 *    `{"at","name","primary"}` per answer (`primary` null when it did not answer).
 */
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { z } from "zod";
import { PgWriter } from "./pg-writer.ts";

const requestSchema = z.discriminatedUnion("mode", [
  z.object({ mode: z.literal("write"), uri: z.string(), table: z.string().regex(/^[a-z_][a-z0-9_]*$/) }),
  z.object({ mode: z.literal("sample"), targets: z.record(z.string(), z.string()) }),
]);

const SAMPLE_PERIOD_MS = 100;

/** Milliseconds on the wall clock, comparable between processes on this machine. */
function wallClock(at: number = performance.now()): number {
  return performance.timeOrigin + at;
}

function emit(line: object): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

let running = true;
process.once("SIGTERM", () => (running = false));

async function write(uri: string, table: string): Promise<void> {
  const writer = new PgWriter(uri, table);
  let printed = 0;
  let failed = 0;
  const flush = (): void => {
    for (const ack of writer.acknowledged.slice(printed)) emit({ id: ack.id, at: wallClock(ack.at), server: ack.server });
    printed = writer.acknowledged.length;
    for (const failure of writer.failures.slice(failed)) emit({ failure: failure.message, at: wallClock(failure.at) });
    failed = writer.failures.length;
  };
  while (running) {
    flush();
    await sleep(20);
  }
  await writer.stop();
  flush();
}

/** true: answers as primary; false: in recovery; null: no answer within 300 ms. */
async function runsAsPrimary(uri: string): Promise<boolean | null> {
  const client = new pg.Client({ connectionString: uri, connectionTimeoutMillis: 300, query_timeout: 300 });
  client.on("error", () => undefined);
  try {
    await client.connect();
    const rows = (await client.query<{ primary: boolean }>("SELECT NOT pg_is_in_recovery() AS primary")).rows;
    return rows[0]?.primary ?? null;
  } catch {
    return null;
  } finally {
    void client.end().catch(() => undefined);
  }
}

async function sample(targets: Record<string, string>): Promise<void> {
  while (running) {
    const started = performance.now();
    await Promise.all(Object.entries(targets).map(async ([name, uri]) => emit({ at: wallClock(), name, primary: await runsAsPrimary(uri) })));
    await sleep(Math.max(0, SAMPLE_PERIOD_MS - (performance.now() - started)));
  }
}

let input = "";
for await (const chunk of process.stdin) input += String(chunk);
const request = requestSchema.parse(JSON.parse(input));
await (request.mode === "write" ? write(request.uri, request.table) : sample(request.targets));
process.exit(0);
