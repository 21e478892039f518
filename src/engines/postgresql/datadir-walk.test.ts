import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { skippedNames, walkDataDirectory } from "./datadir-walk.ts";
import { walSegmentNames } from "./datadir-backup.ts";

test("unlogged relations keep only their init fork; temporary relations and files are left out", () => {
  const names = ["16384", "16384_fsm", "16385", "16385_init", "16385_fsm", "16385.1", "16385_vm", "t3_16390", "pgsql_tmp", "pg_internal.init", "PG_VERSION"];
  assert.deepEqual([...skippedNames(names, true)].sort(), ["16385", "16385.1", "16385_fsm", "16385_vm", "pg_internal.init", "pgsql_tmp", "t3_16390"]);
  assert.deepEqual([...skippedNames(["16385", "16385_init", "postmaster.pid"], false)].sort(), ["postmaster.pid"]);
});

test("the walk keeps runtime directories empty, leaves out pid files and pg_control, and follows a pg_wal link", async () => {
  const root = await mkdtemp(join(tmpdir(), "backup3-walk-"));
  try {
    for (const dir of ["base/5", "global", "pg_replslot/slot", "pg_stat_tmp", "pg_xact"]) await mkdir(join(root, dir), { recursive: true });
    for (const file of ["base/5/16384", "base/5/16385_init", "base/5/16385", "global/pg_control", "global/1262", "postmaster.pid", "pg_replslot/slot/state", "pg_stat_tmp/x", "pg_xact/0000", "PG_VERSION", "backup_label"]) {
      await writeFile(join(root, file), "x");
    }
    await mkdir(join(root, "wal-elsewhere"));
    await writeFile(join(root, "wal-elsewhere", "000000010000000000000001"), "x");
    await symlink(join(root, "wal-elsewhere"), join(root, "pg_wal"));
    const seen: string[] = [];
    for await (const entry of walkDataDirectory(root)) seen.push(`${entry.kind[0]} ${entry.path}`);
    assert.deepEqual(seen, [
      "f PG_VERSION", "d base", "d base/5", "f base/5/16384", "f base/5/16385_init", "d global", "f global/1262",
      "d pg_replslot", "d pg_stat_tmp", "d pg_wal", "d pg_xact", "f pg_xact/0000", "d wal-elsewhere", "f wal-elsewhere/000000010000000000000001",
    ]);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test("the WAL a backup needs: every segment from the start's to the one before the stop position", () => {
  const mib16 = 16 * 1024 * 1024;
  assert.deepEqual(walSegmentNames(1, 0x2000028n, 0x2000100n, mib16), ["000000010000000000000002"]);
  assert.deepEqual(walSegmentNames(1, 0x2000028n, 0x4000000n, mib16), ["000000010000000000000002", "000000010000000000000003"]);
  assert.deepEqual(walSegmentNames(2, 0x1_ff00_0000n, 0x2_0000_0010n, mib16), ["0000000200000001000000FF", "000000020000000200000000"]);
  assert.throws(() => walSegmentNames(1, 10n, 5n, mib16));
});
