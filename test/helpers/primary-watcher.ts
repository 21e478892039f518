/** Watching a PostgreSQL cluster's members for more than one primary: the "never two primaries" check of the HA tests. */
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";

/** The URI `uri` moved to another port on the same host. */
export function onPort(uri: string, port: number): string {
  const url = new URL(uri);
  url.port = String(port);
  return url.toString();
}

/** Is the server on `port` accepting writes? A fresh connection each time, as a client would see it. */
export async function acceptsWrites(uri: string, port: number, timeoutMs = 1500): Promise<boolean> {
  const client = new pg.Client({ connectionString: onPort(uri, port), connectionTimeoutMillis: timeoutMs, query_timeout: timeoutMs });
  client.on("error", () => undefined);
  try {
    await client.connect();
    return (await client.query<{ r: boolean }>("SELECT pg_is_in_recovery() AS r")).rows[0]?.r === false;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** What a watcher saw: how many rounds, and the most members that accepted writes in one round. */
export interface PrimaryWatch {
  samples: number;
  mostPrimaries: number;
}

/** Samples every member on `ports` about every 100 ms (connecting as `uri` does) until stopped. */
export function startPrimaryWatcher(uri: string, ports: readonly number[]): { stop: () => Promise<PrimaryWatch> } {
  let running = true;
  let samples = 0;
  let mostPrimaries = 0;
  const loop = (async () => {
    while (running) {
      const answers = await Promise.all(ports.map((port) => acceptsWrites(uri, port)));
      mostPrimaries = Math.max(mostPrimaries, answers.filter(Boolean).length);
      samples++;
      await sleep(100);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { samples, mostPrimaries };
    },
  };
}
