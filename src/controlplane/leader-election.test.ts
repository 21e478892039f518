import { test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { LostLeaseError } from "../errors/index.ts";
import type { HeldLease, Leases, Store } from "../store/index.ts";
import { createLogger } from "../util/index.ts";
import { withSqliteStore } from "./test-fixtures.ts";
import { LeaderElection, type ElectionTiming } from "./leader-election.ts";

const TIMING: ElectionTiming = { durationMs: 1000, renewIntervalMs: 150, marginMs: 300, retryIntervalMs: 100 };
const logger = createLogger({ level: "silent" });

/** The store's leases, with renewals that can be made to hang (an etcd that stopped answering). */
function stallable(leases: Leases): { leases: Leases; stall(): void } {
  let stalled = false;
  return {
    leases: {
      tryAcquire: (name, holder, durationMs) => leases.tryAcquire(name, holder, durationMs),
      renew: (lease) => (stalled ? new Promise<HeldLease>(() => undefined) : leases.renew(lease)),
      release: (lease) => leases.release(lease),
      read: (name) => leases.read(name),
    },
    stall: () => (stalled = true),
  };
}

/** An election whose terms are recorded: when each started and stopped, and its fenced store. */
function candidate(store: Store, holder: string, leases: Leases = store.leases) {
  const terms: { lease: HeldLease; startedAt: number; stoppedAt?: number; fenced: Store }[] = [];
  const election = new LeaderElection({
    leases,
    holder,
    timing: TIMING,
    logger,
    lead: (lease) => {
      const term: (typeof terms)[number] = { lease, startedAt: performance.now(), fenced: store.fenced(lease) };
      terms.push(term);
      return Promise.resolve({ stop: () => Promise.resolve(void (term.stoppedAt = performance.now())) });
    },
  });
  return { election, terms };
}

async function until(what: string, check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

test("exactly one candidate leads; a clean stop releases the lease and the other takes over within a retry", () =>
  withSqliteStore(async (store) => {
    const a = candidate(store, "cp1");
    a.election.start();
    await until("cp1 leads", () => a.election.leading);
    const b = candidate(store, "cp2");
    b.election.start();
    await sleep(TIMING.durationMs * 2);
    assert.equal(b.terms.length, 0, "cp2 never leads while cp1 renews");
    assert.equal(a.terms.length, 1, "cp1 keeps one term while it renews");
    const stoppedAt = performance.now();
    await a.election.stop();
    assert.ok(a.terms[0]?.stoppedAt !== undefined);
    await until("cp2 leads", () => b.election.leading);
    assert.ok(performance.now() - stoppedAt < TIMING.retryIntervalMs * 4, "taken over without waiting for expiry");
    assert.equal((await store.leases.read("holdfast-controllers"))?.holder, "cp2");
    await b.election.stop();
  }));

test("a leader whose renewals hang stops acting before its lease can expire; its late fenced writes are refused", () =>
  withSqliteStore(async (store) => {
    const stalling = stallable(store.leases);
    const a = candidate(store, "cp1", stalling.leases);
    a.election.start();
    await until("cp1 leads", () => a.election.leading);
    const term = a.terms[0];
    assert.ok(term);
    stalling.stall();
    await until("cp1 steps down", () => term.stoppedAt !== undefined, TIMING.durationMs * 2);
    const b = candidate(store, "cp2");
    b.election.start();
    await until("cp2 leads", () => b.election.leading, TIMING.durationMs * 3);
    const second = b.terms[0];
    assert.ok(second && term.stoppedAt !== undefined);
    assert.ok(term.stoppedAt < second.startedAt, "the old leader stopped before the new one started");
    assert.ok(second.startedAt - term.stoppedAt >= TIMING.marginMs - 50, `stopped ${Math.round(second.startedAt - term.stoppedAt)} ms before the takeover`);
    // A paused former leader that wakes up: its writes go through its fenced view, and are refused.
    await assert.rejects(term.fenced.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: "late" } }), LostLeaseError);
    await second.fenced.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: "current" } });
    await b.election.stop();
    await a.election.stop();
  }));
