import { afterEach, beforeEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { UnavailableError } from "../errors/index.ts";
import { scrubDatabase } from "./sqlite-scrub.ts";

const DELETED = "deleted-value-7f3a9c";
const KEPT = "kept-value-2b81d0";

let dir: string;
let path: string;
let db: DatabaseSync;

function bytes(): Buffer {
  return Buffer.concat([path, `${path}-wal`, `${path}-shm`].filter((file) => existsSync(file)).map((file) => readFileSync(file)));
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "holdfast-scrub-"));
  path = join(dir, "test.db");
  db = new DatabaseSync(path, { timeout: 50 });
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("CREATE TABLE t (value TEXT NOT NULL)");
  const insert = db.prepare("INSERT INTO t (value) VALUES (?)");
  for (let index = 0; index < 200; index += 1) insert.run(`${DELETED}-${index}`);
  insert.run(KEPT);
  db.exec(`DELETE FROM t WHERE value LIKE '${DELETED}%'`);
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("scrubDatabase", () => {
  it("leaves deleted rows in neither the main file nor the write-ahead log", () => {
    assert.ok(bytes().includes(DELETED), "deleted rows linger before the scrub");
    scrubDatabase(db, "test database");
    assert.equal(bytes().includes(DELETED), false);
    assert.ok(bytes().includes(KEPT));
    assert.equal(readFileSync(`${path}-wal`).length, 0);
    assert.deepEqual(db.prepare("SELECT value FROM t").all().map((row) => row["value"]), [KEPT]);
  });

  it("says so when another connection keeps the log from being emptied", () => {
    const reader = new DatabaseSync(path, { readOnly: true });
    try {
      reader.exec("BEGIN");
      reader.prepare("SELECT count(*) FROM t").get();
      assert.throws(() => scrubDatabase(db, "test database"), (error: unknown) => error instanceof UnavailableError && /another process has the test database open/.test(error.message));
    } finally {
      reader.close();
    }
  });
});
