import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { renderHoldfastConf } from "./config.ts";
import { archiveCommand, compareWalFiles, isWalFile, renderArchiveScript, segmentPosition, shellQuote, walArchiveFlag, walSpoolDirectory } from "./wal-archive.ts";
import { chooseWalFiles } from "./wal-selection.ts";
import { parseBackupLabel, recoverySettings } from "./wal-restore.ts";
import { globalsForNewCluster } from "./pgdump.ts";

const execFileAsync = promisify(execFile);
const layout = (root: string) => ({ instanceName: "pg-0", rootDirectory: root, dataDirectory: join(root, "data"), runDirectory: join(root, "run"), port: 5432 });

describe("WAL hand-over", () => {
  it("holdfast.conf archives through Holdfast's script from the first start, every 60 s at most", () => {
    const conf = renderHoldfastConf({ ...layout("/srv/a"), version: { version: "15.18", major: "15", binDir: "/usr/bin" }, parameters: {}, role: "primary" });
    assert.match(conf, /^archive_mode = 'always'$/m);
    assert.ok(conf.includes(`\narchive_command = '''/srv/a/run/archive-wal.sh'' "%p" "%f"'\n`), conf);
    assert.match(conf, /^archive_timeout = '60'$/m);
    assert.equal(archiveCommand(layout("/srv/a")), `'/srv/a/run/archive-wal.sh' "%p" "%f"`);
    assert.equal(shellQuote("a'b"), `'a'\\''b'`);
  });

  it("the script copies only while the flag exists, keeps the file's time, never replaces other bytes, and fails loudly", async () => {
    const root = await mkdtemp(join(tmpdir(), "holdfast-wal-script-"));
    try {
      const spool = walSpoolDirectory(layout(root));
      await execFileAsync("mkdir", ["-p", spool, join(root, "run"), join(root, "data", "pg_wal")]);
      const script = join(root, "run", "archive-wal.sh");
      await writeFile(script, renderArchiveScript(layout(root)), { mode: 0o700 });
      const segment = join(root, "data", "pg_wal", "000000010000000000000003");
      await writeFile(segment, "wal bytes");
      const then = new Date("2025-01-02T03:04:05Z");
      await utimes(segment, then, then);
      const archive = (file = segment, name = "000000010000000000000003") => execFileAsync(script, [file, name]);
      await archive();
      assert.deepEqual(await readdir(spool), [], "without the flag nothing is kept");
      await writeFile(walArchiveFlag(layout(root)), "");
      await archive();
      assert.equal(await readFile(join(spool, "000000010000000000000003"), "utf8"), "wal bytes");
      assert.equal((await (await import("node:fs/promises")).stat(join(spool, "000000010000000000000003"))).mtime.toISOString(), then.toISOString());
      await archive();
      await writeFile(segment, "other bytes");
      await assert.rejects(archive(), /exists with other content/);
      await assert.rejects(archive(join(root, "missing"), "000000010000000000000004"));
      assert.deepEqual((await readdir(spool)).sort(), ["000000010000000000000003", "ARCHIVING"], "a failed copy leaves no temporary file");
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it("names and order of WAL files", () => {
    assert.ok(isWalFile("000000010000000000000003") && isWalFile("00000002.history") && isWalFile("000000010000000000000002.00000028.backup") && isWalFile("000000010000000000000005.partial"));
    assert.ok(!isWalFile("ARCHIVING") && !isWalFile(".000000010000000000000003.123") && !isWalFile("00000001000000000000000g"));
    assert.deepEqual(segmentPosition("0000000200000001000000FF"), { timeline: 2, segment: (1n << 32n) + 255n });
    const sorted = ["000000020000000000000005", "000000010000000000000005", "00000002.history", "000000010000000000000004"].sort(compareWalFiles);
    assert.deepEqual(sorted, ["00000002.history", "000000010000000000000004", "000000010000000000000005", "000000020000000000000005"]);
  });
});

describe("choosing WAL for a recovery", () => {
  const start = { file: "000000010000000000000003" };
  it("reads history files and segments from the start on, grouped by position across a timeline switch", () => {
    const plan = chooseWalFiles(["000000010000000000000002", "000000010000000000000003", "000000010000000000000004", "000000010000000000000005.partial", "00000002.history", "000000020000000000000005", "000000020000000000000006"], start);
    assert.deepEqual(plan.history, ["00000002.history"]);
    assert.deepEqual(plan.segments.map((g) => [g.names, g.gapBefore]), [[["000000010000000000000003"], false], [["000000010000000000000004"], false], [["000000020000000000000005"], false], [["000000020000000000000006"], false]]);
  });
  it("marks a missing position as a gap, unless the base backup holds that segment itself", () => {
    const names = ["000000010000000000000004", "000000010000000000000006"];
    assert.deepEqual(chooseWalFiles(names, start).segments.map((g) => g.gapBefore), [true, true]);
    const withBase = chooseWalFiles(names, start, ["000000010000000000000002", "000000010000000000000003", "archive_status"]);
    assert.deepEqual(withBase.segments.map((g) => [g.segment, g.names.length, g.gapBefore]), [[3n, 0, false], [4n, 1, false], [6n, 1, true]]);
  });
});

describe("recovery settings", () => {
  it("come from backup_label and stop at the target, promoting", () => {
    assert.deepEqual(parseBackupLabel("START WAL LOCATION: 0/2000028 (file 000000010000000000000002)\nCHECKPOINT LOCATION: 0/2000060\n"), { file: "000000010000000000000002" });
    assert.throws(() => parseBackupLabel("nothing"), /names no start WAL file/);
    const settings = recoverySettings("/srv/x/wal-restore", new Date("2025-01-02T03:04:05.250Z"));
    assert.ok(settings.includes(`restore_command=cp '/srv/x/wal-restore'/%f "%p"`));
    assert.ok(settings.includes("recovery_target_time=2025-01-02 03:04:05.250+00"));
    assert.ok(settings.includes("recovery_target_action=promote"));
    assert.equal(recoverySettings("/s", undefined).some((s) => s.startsWith("recovery_target_time=")), false);
  });
});

describe("pgdump globals", () => {
  it("keep every role, but not initdb's own CREATE ROLE nor the system accounts' passwords", () => {
    const globals = ["CREATE ROLE app;", "ALTER ROLE app WITH LOGIN PASSWORD 'SCRAM-SHA-256$x';", "CREATE ROLE postgres;", "ALTER ROLE postgres WITH SUPERUSER LOGIN PASSWORD 'SCRAM-SHA-256$y';", `CREATE ROLE "postgres2";`, "CREATE ROLE kbreplicator;", "ALTER ROLE kbreplicator WITH LOGIN REPLICATION PASSWORD 'SCRAM-SHA-256$z';", "GRANT pg_monitor TO app;"].join("\n");
    const expected = ["CREATE ROLE app;", "ALTER ROLE app WITH LOGIN PASSWORD 'SCRAM-SHA-256$x';", "ALTER ROLE postgres WITH SUPERUSER LOGIN;", `CREATE ROLE "postgres2";`, "CREATE ROLE kbreplicator;", "ALTER ROLE kbreplicator WITH LOGIN REPLICATION;", "GRANT pg_monitor TO app;"].join("\n");
    assert.equal(globalsForNewCluster(globals, ["postgres"], ["postgres", "kbreplicator"]), expected);
  });
});
