import { test } from "node:test";
import assert from "node:assert/strict";
import { BackupIntegrityError } from "../backup/index.ts";
import { InternalError, InvalidError, NotFoundError, UnavailableError } from "../errors/index.ts";
import { isRetryable, retryDelayMs, RETRY_FIRST_MS } from "./backup-retry.ts";

test("a failed backup is retried backoffLimit times, waiting twice as long each time", () => {
  assert.deepEqual([0, 1, 2].map((n) => retryDelayMs(n, 2)), [RETRY_FIRST_MS, 2 * RETRY_FIRST_MS, undefined]);
  assert.equal(retryDelayMs(0, 0), undefined);
  assert.equal(retryDelayMs(0, undefined), undefined, "no backoffLimit: no retry");
  assert.equal(retryDelayMs(9, 10), 5 * 60_000, "capped at five minutes");
});

test("a lost connection or a killed command is worth a retry", () => {
  assert.equal(isRetryable(new InternalError("pg_basebackup was killed by SIGKILL")), true);
  assert.equal(isRetryable(new UnavailableError("connection refused")), true);
  assert.equal(isRetryable(new Error("pg_basebackup exited with code 1: server closed the connection unexpectedly")), true);
});

test("an invalid configuration or damaged data is not retried", () => {
  assert.equal(isRetryable(new InvalidError("backup method x is not in the policy")), false);
  assert.equal(isRetryable(new NotFoundError("BackupRepo local not found")), false);
  assert.equal(isRetryable(new BackupIntegrityError("checksum", { backupId: "b", objectKey: "k" }, "bad")), false);
  assert.equal(isRetryable(new Error('pg_basebackup exited with code 1: checksum verification failed in file "./base/5/16384", block 3')), false);
  assert.equal(isRetryable(new Error("ERROR: invalid page in block 12 of relation base/5/16384")), false);
});
