import assert from "node:assert/strict";
import { test } from "node:test";
import { CLOCK_MARGIN_MS, mayLeaveUnread, SMALL_FILE_LIMIT, unreadRule, type UnreadRule } from "./unread-files.ts";

const PARENT_STARTED = Date.parse("2026-12-07T10:00:00Z");
const NOW = PARENT_STARTED + 60_000;
const unchangedMainForks = new Set(["base/5/1259", "global/1262"]);
const rule: UnreadRule = { parentStartedAt: PARENT_STARTED, now: NOW, mainForkUnchanged: (path) => unchangedMainForks.has(path) };
const old = PARENT_STARTED - 3_600_000;
const file = (size: number, mtimeMs = old, ctimeMs = mtimeMs): { size: number; mtimeMs: number; ctimeMs: number } => ({ size, mtimeMs, ctimeMs });

test("a small non-relation file untouched well before the parent started is left unread", () => {
  for (const path of ["pg_xact/0000", "base/5/1259_fsm", "base/5/1259_vm", "postgresql.conf", "global/pg_filenode.map", "PG_VERSION"]) {
    assert.equal(mayLeaveUnread(path, file(8192), rule), true, path);
  }
});

test("a file changed within the margin before the parent's start, or after it, is read", () => {
  assert.equal(mayLeaveUnread("pg_xact/0000", file(8192, PARENT_STARTED - CLOCK_MARGIN_MS + 1), rule), false, "inside the margin");
  assert.equal(mayLeaveUnread("pg_xact/0000", file(8192, PARENT_STARTED - CLOCK_MARGIN_MS - 1), rule), true, "just before it");
  // The same second as the parent's start (a rewrite its tar header, whole seconds, could not tell apart).
  assert.equal(mayLeaveUnread("postgresql.auto.conf", file(120, PARENT_STARTED + 400), rule), false, "same second, after");
  assert.equal(mayLeaveUnread("postgresql.auto.conf", file(120, PARENT_STARTED - 400), rule), false, "same second, before");
  assert.equal(mayLeaveUnread("postgresql.auto.conf", file(120, NOW - 1000), rule), false, "since the parent");
});

test("an mtime set back by hand does not hide a change: the ctime, which cannot be set back, is read too", () => {
  assert.equal(mayLeaveUnread("pg_hba.conf", file(400, old, NOW - 5000), rule), false);
});

test("a timestamp in the future (the clock went back) makes the file read", () => {
  const stepped = { ...rule, parentStartedAt: NOW + 5 * 60_000, now: NOW };
  assert.equal(mayLeaveUnread("pg_xact/0000", file(8192, NOW + 1000), stepped), false);
});

test("main forks follow the WAL block map, never the clock", () => {
  assert.equal(mayLeaveUnread("base/5/1259", file(8192 * 3, NOW - 10), rule), true, "the map says unchanged; its time does not matter");
  assert.equal(mayLeaveUnread("base/5/2608", file(8192 * 3, old), rule), false, "the map names it (or there is no map)");
  assert.equal(mayLeaveUnread("base/5/2608.1", file(8192, old), rule), false);
});

test("pg_control, empty files and large members are always read", () => {
  assert.equal(mayLeaveUnread("global/pg_control", file(8192), rule), false);
  assert.equal(mayLeaveUnread("pg_xact/0000", file(0), rule), false);
  assert.equal(mayLeaveUnread("pg_xact/0000", file(SMALL_FILE_LIMIT), rule), false);
  assert.equal(mayLeaveUnread("base/5/1259", file(SMALL_FILE_LIMIT), rule), false);
});

test("without the parent's start time, or with the clock before it, there is no rule: every file is read", () => {
  const none = (): boolean => true;
  assert.equal(unreadRule({}, NOW, none), undefined);
  assert.equal(unreadRule({ startedAt: "soon" }, NOW, none), undefined);
  assert.equal(unreadRule({ startedAt: String(NOW + 1) }, NOW, none), undefined);
  assert.deepEqual(unreadRule({ startedAt: String(PARENT_STARTED) }, NOW, none)?.parentStartedAt, PARENT_STARTED);
});
