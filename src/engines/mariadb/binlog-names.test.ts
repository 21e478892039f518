import { test } from "node:test";
import assert from "node:assert/strict";
import { archivedBinlogName, chooseBinlogs, chooseReplay, compareArchivedBinlogs, gtidListOfPrinted, parseArchivedBinlog, parseBinlogIndex, parseBinlogInfo, parseGtidList, startsNoLaterThan, stopDatetime } from "./binlog-names.ts";

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
  assert.deepEqual(parseBinlogInfo("mariadb-bin.000003\t1234\t0-17-42\n"), { file: "mariadb-bin.000003", position: 1234, gtid: "0-17-42" });
  assert.deepEqual(parseBinlogInfo("mariadb-bin.000003\t1234\n"), { file: "mariadb-bin.000003", position: 1234 });
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

void test("GTID lists: parsed by domain, compared per domain, read from mariadb-binlog's Gtid list line", () => {
  assert.deepEqual(parseGtidList("0-1-42,1-2-7"), new Map([[0, 42n], [1, 7n]]));
  assert.deepEqual(parseGtidList(""), new Map());
  assert.equal(parseGtidList("0-1-42,0-2-43"), undefined, "one position per domain");
  assert.equal(parseGtidList("zero"), undefined);
  const base = parseGtidList("0-1-42") ?? new Map<number, bigint>();
  assert.equal(startsNoLaterThan(new Map([[0, 40n]]), base), true);
  assert.equal(startsNoLaterThan(new Map([[0, 42n]]), base), true, "a file starting right after the base's last transaction");
  assert.equal(startsNoLaterThan(new Map([[0, 43n]]), base), false, "transaction 43 would be missing");
  assert.equal(startsNoLaterThan(new Map([[1, 1n]]), base), false, "a domain the base never saw");
  assert.equal(startsNoLaterThan(new Map(), base), true, "a binlog that began empty");
  const printed = "#261206 23:10:00 server id 2  end_log_pos 285 CRC32 0x1b2c3d4e \tGtid list [0-1-40,1-3-2]\n";
  assert.deepEqual(gtidListOfPrinted(printed), new Map([[0, 40n], [1, 2n]]));
  assert.equal(gtidListOfPrinted("# no such event"), undefined);
});

void test("a replay falls back to another instance's archive, from the backup's GTID, when the source's stops short", () => {
  const files = [file("a", 3, 10), file("a", 4, 20), file("b", 7, 5), file("b", 8, 12), file("b", 9, 22), file("b", 10, 40), file("c", 1, 50)];
  const start = { file: "mariadb-bin.000003", position: 400, gtid: "0-1-42" };
  assert.deepEqual(chooseReplay(files, "a", start, at(15)), { instance: "a", files: [files[0], files[1]], from: "position" }, "the source reaches it: its files");
  assert.deepEqual(chooseReplay(files, "a", start, at(30)), { instance: "b", files: [files[2], files[3], files[4], files[5]], from: "gtid" }, "every file of b");
  assert.deepEqual(chooseReplay(files, "a", start, at(30), at(11)), { instance: "b", files: [files[2], files[3], files[4], files[5]], from: "gtid" }, "b from its last file written before the bound");
  assert.deepEqual(chooseReplay(files, "a", start, at(30), at(13)), { instance: "b", files: [files[3], files[4], files[5]], from: "gtid" });
  assert.deepEqual(chooseReplay(files, "a", start, at(45)), { instance: "c", files: [files[6]], from: "gtid" }, "only c reaches 45 s");
  const gap = chooseReplay(files.filter((f) => !f.name.endsWith("000009") && !f.name.startsWith("c.")), "a", start, at(30));
  assert.ok("problem" in gap && gap.problem.includes("no other instance's archived binlog reaches it"), JSON.stringify(gap));
  const noGtid = chooseReplay(files, "a", { file: "mariadb-bin.000003", position: 400 }, at(30));
  assert.ok("problem" in noGtid && noGtid.problem.includes("reaches only"), "without a GTID position only the source's archive can serve");
});
