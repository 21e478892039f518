/**
 * Group commit: the writes that arrive together (in one turn of the event loop) share one transaction and so one
 * fsync, each in its own savepoint. A write that fails rolls back to its savepoint alone; a dry run always does; the
 * others commit together, and each caller hears its own outcome only after the commit is on disk.
 */
import type { DatabaseSync, StatementSync } from "node:sqlite";
import { HoldfastError, UnavailableError, errorMessage } from "../../errors/index.ts";
import type { StorageCodec } from "../types.ts";
import type { Change, WatchHub } from "../watch-hub.ts";
import type { StoreTables } from "./tables.ts";
import { Writer } from "./writer.ts";

/** One write waiting for the next group. */
interface PendingWrite {
  work: (writer: Writer) => unknown;
  dryRun: boolean;
  /** False for a write whose loss in a power cut is harmless (a lease renewal): see `submit`. */
  durable: boolean;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

type Outcome = { ok: true; value: unknown; changes: Change[]; counter: number } | { ok: false; error: Error };

/** What a group needs from the store. */
export interface GroupContext {
  db: DatabaseSync;
  tables: StoreTables;
  codec: StorageCodec;
  hub: WatchHub;
  historyLimit: number;
  isClosed(): boolean;
}

/** Queues writes and commits them in groups. */
export class GroupCommit {
  private readonly context: GroupContext;
  private queue: PendingWrite[] = [];
  private readonly statements = new Map<string, StatementSync>();

  constructor(context: GroupContext) {
    this.context = context;
  }

  /**
   * Run `work` in the next group; resolves once it is committed (or, for a dry run, rolled back). A group made only of
   * writes that are not `durable` commits without the WAL's fsync (synchronous=NORMAL): it survives a crash of the
   * process, not a power cut or a crash of the kernel until the next durable commit syncs the WAL, which holds it.
   */
  submit<T>(work: (writer: Writer) => T, dryRun: boolean, durable = true): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ work, dryRun, durable, resolve: resolve as (value: unknown) => void, reject });
      // After the current turn's microtasks, so every write its callbacks start joins this group.
      if (this.queue.length === 1) setImmediate(() => this.flush());
    });
  }

  private flush(): void {
    const group = this.queue;
    this.queue = [];
    if (this.context.isClosed()) {
      for (const write of group) write.reject(new UnavailableError("the store is closed; open it again"));
      return;
    }
    let outcomes: Outcome[];
    try {
      const durable = group.some((write) => write.durable && !write.dryRun);
      outcomes = this.context.tables.transaction(() => this.runGroup(group), { durable });
    } catch (error) {
      const failure = storeError(error);
      for (const write of group) write.reject(failure);
      return;
    }
    group.forEach((write, index) => {
      const outcome = outcomes[index];
      if (outcome === undefined) return;
      if (!outcome.ok) {
        write.reject(outcome.error);
        return;
      }
      this.context.hub.publish(outcome.changes);
      write.resolve(outcome.value);
    });
  }

  /** Every write of the group in turn, each starting from the counter the last committed one left. */
  private runGroup(group: PendingWrite[]): Outcome[] {
    const { tables, historyLimit } = this.context;
    let counter = tables.resourceVersion();
    const outcomes = group.map((write) => {
      const outcome = this.runOne(write, counter);
      if (outcome.ok) counter = outcome.counter;
      return outcome;
    });
    tables.setResourceVersion(counter);
    tables.compactThrough(counter - historyLimit);
    return outcomes;
  }

  private runOne(write: PendingWrite, counter: number): Outcome {
    const { tables, codec } = this.context;
    this.sql("SAVEPOINT store_write");
    try {
      const writer = new Writer(tables, codec, counter);
      // Every work returns a value of its own (an object decoded afresh from what was read or written), so the caller
      // gets it without another copy; watchers get copies of the changes when they are published.
      const value = write.work(writer);
      if (write.dryRun) {
        this.undo();
        return { ok: true, value, changes: [], counter };
      }
      this.sql("RELEASE store_write");
      return { ok: true, value, changes: writer.changes, counter: writer.resourceVersion };
    } catch (error) {
      this.undo();
      return { ok: false, error: storeError(error) };
    }
  }

  private undo(): void {
    this.sql("ROLLBACK TO store_write");
    this.sql("RELEASE store_write");
  }

  /** Savepoint statements, prepared once. */
  private sql(text: string): void {
    let statement = this.statements.get(text);
    if (statement === undefined) {
      statement = this.context.db.prepare(text);
      this.statements.set(text, statement);
    }
    statement.run();
  }
}

function storeError(error: unknown): Error {
  if (error instanceof HoldfastError) return error;
  return new UnavailableError(`the store could not complete the write; retry (${errorMessage(error)})`, { cause: error });
}
