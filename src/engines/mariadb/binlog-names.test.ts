import { test } from "node:test";
import assert from "node:assert/strict";
import { archivedBinlogName, chooseBinlogs, compareArchivedBinlogs, parseArchivedBinlog, parseBinlogIndex, parseBinlogInfo, stopDatetime } from "./binlog-names.ts";

const at = (second: number): Date => new Date(Date.UTC(2026, 0, 1, 12, 0, second));
const file = (instance: string, n: number, second: number): { name: string; writtenAt: Date } => ({ name: archivedBinlogName(instance, `mariadb-bin.${String(n).padStart(6, "0")}`), writtenAt: at(second) });

void test("archived names carry the instance, and only they count as log files", () => {
  assert.deepEqual(parseArchivedBinlog("mdb-mariadb-0.mariadb-bin.000012"), { instance: "mdb-mariadb-0", file: "mariadb-bin.000012", sequence: 12 });
  assert.equal(parseArchivedBinlog(".mdb-mariadb-0.mariadb-bin.000012.partial"), undefined);
  assert.equal(parseArchivedBinlog("ARCHIVING"), undefined);
  assert.equal(parseArchivedBinlog(".handed-over"), undefined);
  const names = ["b.mariadb-bin.000002", "a.mariadb-bin.000010", "a.mariadb-bin.000009"];
  assert.deepEqual(names.sort(compareArchivedBinlogs), ["a.mariadb-bin.000009", "a.mariadb-bin.000010", "b.mariadb-bin.000002"]);
});

void test("the index and mariabackup's binlog info are read", () => {
  assert.deepEqual(parseBinlogIndex("./mariadb-bin.000001\n/x/data/mariadb-bin.000002\n"), ["mariadb-bin.000001", "mariadb-bin.000002"]);
  assert.deepEqual(parseBinlogInfo("mariadb-bin.000003\t1234\t0-17-42\n"), { file: "mariadb-bin.000003", position: 1234 });
  assert.equal(parseBinlogInfo(""), undefined);
});

void test("a replay reads the source instance's files from the backup's on, up to the first written at or after the target", () => {
  const files = [file("a", 2, 1), file("a", 3, 10), file("a", 4, 20), file("a", 5, 30), file("b", 3, 25)];
  const start = { file: "mariadb-bin.000003", position: 400 };
  assert.deepEqual(chooseBinlogs(files, "a", start, at(15)), { files: [files[1], files[2]] });
  assert.deepEqual(chooseBinlogs(files, "a", start, at(10)), { files: [files[1]] });
  const late = chooseBinlogs(files, "a", start, at(31));
  assert.ok("problem" in late && late.problem.includes("reaches only 2026-01-01T12:00:30.000Z"), JSON.stringify(late));
  const gap = chooseBinlogs([files[1], files[3]].filter((f) => f !== undefined), "a", start, at(29));
  assert.ok("problem" in gap && gap.problem.includes("has no mariadb-bin.000004"), JSON.stringify(gap));
  const missingStart = chooseBinlogs(files, "b", { file: "mariadb-bin.000002", position: 4 }, at(20));
  assert.ok("problem" in missingStart && missingStart.problem.includes("has no mariadb-bin.000002"));
});

void test("the stop time is whole seconds in UTC", () => {
  assert.equal(stopDatetime(new Date("2026-12-06T19:02:03.987Z")), "2026-12-06 19:02:03");
});
