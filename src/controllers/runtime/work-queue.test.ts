import { test } from "node:test";
import assert from "node:assert/strict";
import { WorkQueue, backoffDelay } from "./work-queue.ts";

test("a key added many times while waiting is handed out once", async () => {
  const queue = new WorkQueue();
  queue.add("a");
  queue.add("a");
  queue.add("b");
  assert.equal(queue.length, 2);
  assert.equal(await queue.get(), "a");
  assert.equal(await queue.get(), "b");
});

test("a key being processed is not handed out again until done, then comes back once", async () => {
  const queue = new WorkQueue();
  queue.add("a");
  const key = await queue.get();
  queue.add("a");
  queue.add("a");
  assert.equal(queue.length, 0, "the key must wait while it is processed");
  queue.done(key!);
  assert.equal(queue.length, 1);
  assert.equal(await queue.get(), "a");
  queue.done("a");
  assert.equal(queue.length, 0);
});

test("backoff grows exponentially, is capped, and jitters within [d/2, d]", () => {
  const policy = { baseMs: 100, maxMs: 1000 };
  assert.equal(backoffDelay(0, policy, () => 0), 50);
  assert.equal(backoffDelay(0, policy, () => 0.999999), 100);
  assert.equal(backoffDelay(3, policy, () => 0.999999), 800);
  assert.equal(backoffDelay(10, policy, () => 0.999999), 1000);
  assert.equal(backoffDelay(10, policy, () => 0), 500);
});

test("addRateLimited delays the key and counts failures; forget resets", async () => {
  const queue = new WorkQueue({ baseMs: 20, maxMs: 1000 });
  const delay = queue.addRateLimited("k");
  assert.ok(delay >= 10 && delay <= 20);
  assert.equal(queue.length, 0);
  assert.equal(queue.failures("k"), 1);
  assert.equal(await queue.get(), "k");
  queue.forget("k");
  assert.equal(queue.failures("k"), 0);
});

test("addAfter keeps the earliest pending time", async () => {
  const queue = new WorkQueue();
  queue.addAfter("k", 10_000);
  queue.addAfter("k", 10);
  const started = Date.now();
  assert.equal(await queue.get(), "k");
  assert.ok(Date.now() - started < 5000);
  queue.shutDown();
});

test("shutDown releases waiting getters", async () => {
  const queue = new WorkQueue();
  const pending = queue.get();
  queue.shutDown();
  assert.equal(await pending, undefined);
});
