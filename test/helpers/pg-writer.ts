/** A PostgreSQL client that keeps writing, for failover tests: when each write was acknowledged, and by which server. */
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";

/** One acknowledged write: its id, when (performance.now()), and the server (port and start time) that committed it. */
export interface AcknowledgedWrite {
  id: number;
  at: number;
  server: string;
}

/** Inserts rows into `table` (id bigint primary key) one after another through `uri`, reconnecting after errors. */
export class PgWriter {
  readonly acknowledged: AcknowledgedWrite[] = [];
  /** Each failed connection or write: when (performance.now()) and why, for timelines of a failover. */
  readonly failures: { at: number; message: string }[] = [];
  #running = true;
  readonly #loop: Promise<void>;

  constructor(uri: string, table: string) {
    this.#loop = this.#run(uri, table);
  }

  async #run(uri: string, table: string): Promise<void> {
    let next = 1;
    let client: pg.Client | undefined;
    while (this.#running) {
      try {
        if (client === undefined) {
          client = new pg.Client({ connectionString: uri, connectionTimeoutMillis: 2000, query_timeout: 2000 });
          client.on("error", () => undefined);
          await client.connect();
        }
        // Every attempt gets a new id: a commit whose answer was lost must not make the next attempt a duplicate.
        const id = next++;
        const result = await client.query<{ server: string }>(`INSERT INTO ${table} (id) VALUES ($1) RETURNING inet_server_port() || ' ' || pg_postmaster_start_time() AS server`, [id]);
        this.acknowledged.push({ id, at: performance.now(), server: result.rows[0]?.server ?? "" });
      } catch (error) {
        this.failures.push({ at: performance.now(), message: error instanceof Error ? error.message : String(error) });
        // Not awaited: ending a connection whose server vanished can hang.
        void client?.end().catch(() => undefined);
        client = undefined;
        await sleep(10);
      }
    }
    await client?.end().catch(() => undefined);
  }

  /** Stop writing (idempotent). */
  async stop(): Promise<void> {
    this.#running = false;
    await this.#loop;
  }

  /** The acknowledged writes `uri`'s server does not have (read from `table`). */
  async missingOn(uri: string, table: string): Promise<AcknowledgedWrite[]> {
    const client = new pg.Client({ connectionString: uri });
    await client.connect();
    try {
      const stored = new Set((await client.query<{ id: string }>(`SELECT id FROM ${table}`)).rows.map((r) => Number(r.id)));
      return this.acknowledged.filter((a) => !stored.has(a.id));
    } finally {
      await client.end();
    }
  }
}
