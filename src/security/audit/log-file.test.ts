import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SYNCS_IN_FLIGHT, openAuditFile } from "./log-file.ts";

test("the audit file takes SYNCS_IN_FLIGHT fdatasyncs at once, each on a descriptor of its own, and refuses more", async () => {
  const directory = mkdtempSync(join(tmpdir(), "holdfast-auditfile-"));
  try {
    const path = join(directory, "audit.log");
    const file = await openAuditFile(path);
    await file.write(Buffer.from("one\n"));
    const syncs = Array.from({ length: SYNCS_IN_FLIGHT }, () => file.sync());
    await assert.rejects(file.sync(), /more than 3 fdatasyncs/);
    await Promise.all(syncs);
    await file.write(Buffer.from("two\n"));
    await Promise.all(Array.from({ length: SYNCS_IN_FLIGHT }, () => file.sync()));
    await file.close();
    assert.equal(readFileSync(path, "utf8"), "one\ntwo\n");
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
});
