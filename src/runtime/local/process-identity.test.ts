import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { test } from "node:test";
import { isSameProcess, parseProcStat, parseStatusUids, processExecutable, readProcessStartTicks } from "./process-identity.ts";

const STAT_TAIL = "S 1 4242 4242 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 987654 1000 10 18446744073709551615";

void test("parseProcStat counts fields after the last ')' even when comm holds spaces and parens", () => {
  const stat = parseProcStat(`4242 (evil) S 1 2 3 (x)) ${STAT_TAIL}\n`);
  assert.deepEqual(stat, { state: "S", processGroup: 4242, startTicks: "987654" });
});

void test("parseProcStat rejects truncated input", () => {
  assert.equal(parseProcStat("4242 (x) S 1 2"), undefined);
  assert.equal(parseProcStat("garbage"), undefined);
});

void test("parseStatusUids reads all four uids", () => {
  assert.deepEqual(parseStatusUids("Name:\tx\nUid:\t101\t101\t101\t102\nGid:\t1\t1\t1\t1\n"), [101, 101, 101, 102]);
  assert.equal(parseStatusUids("Name:\tx\n"), undefined);
});

void test("identity of a real process, and none after it exits", async () => {
  const child = spawn("sleep", ["30"], { stdio: "ignore" });
  try {
    const pid = child.pid!;
    const ticks = await readProcessStartTicks(pid);
    assert.match(ticks ?? "", /^\d+$/);
    assert.equal(await isSameProcess(pid, ticks!), true);
    assert.equal(await isSameProcess(pid, String(Number(ticks) + 1)), false);
    assert.equal(await processExecutable(pid), "/usr/bin/sleep");
    child.kill("SIGKILL");
    await once(child, "exit");
    assert.equal(await isSameProcess(pid, ticks!), false);
  } finally {
    child.kill("SIGKILL");
  }
});

void test("invalid pids have no identity", async () => {
  assert.equal(await readProcessStartTicks(0), undefined);
  assert.equal(await readProcessStartTicks(-1), undefined);
  assert.equal(await processExecutable(1.5), undefined);
});
