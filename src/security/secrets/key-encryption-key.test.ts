import { afterEach, beforeEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { UnavailableError } from "../../errors/index.ts";
import { exportKeyEncryptionKey, importKeyEncryptionKey, loadOrCreateKeyEncryptionKey, unwrapKey, wrapKey } from "./key-encryption-key.ts";

let dir: string;
let path: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "holdfast-kek-"));
  path = join(dir, "keys", "key-encryption.key");
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("the key-encryption key file", () => {
  it("is made once: 32 random bytes, mode 0600 in a 0700 directory, the same on every load", async () => {
    const kek = await loadOrCreateKeyEncryptionKey(path);
    assert.equal(kek.length, 32);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, "keys")).mode & 0o777, 0o700);
    assert.deepEqual(await loadOrCreateKeyEncryptionKey(path), kek);
    assert.deepEqual(await exportKeyEncryptionKey(path), kek);
  });

  it("is imported on a joining node, again without harm, but never over another control plane's", async () => {
    const kek = await loadOrCreateKeyEncryptionKey(path);
    const joined = join(dir, "other-home", "keys", "key-encryption.key");
    await importKeyEncryptionKey(joined, kek);
    await importKeyEncryptionKey(joined, kek);
    assert.deepEqual(await exportKeyEncryptionKey(joined), kek);
    assert.equal(statSync(joined).mode & 0o777, 0o600);
    await assert.rejects(importKeyEncryptionKey(joined, Buffer.alloc(32, 1)), /already holds a different key-encryption key/);
    await assert.rejects(importKeyEncryptionKey(join(dir, "short"), Buffer.alloc(16)), /has 32 bytes/);
  });

  it("is refused when others can read it, when it has the wrong size, or when it is missing", async () => {
    await assert.rejects(exportKeyEncryptionKey(path), /does not exist/);
    await loadOrCreateKeyEncryptionKey(path);
    chmodSync(path, 0o644);
    await assert.rejects(exportKeyEncryptionKey(path), /readable by others/);
    writeFileSync(path, Buffer.alloc(31), { mode: 0o600 });
    chmodSync(path, 0o600);
    await assert.rejects(exportKeyEncryptionKey(path), /31 bytes instead of 32/);
  });
});

describe("wrapping a keyring key", () => {
  it("unwraps only with the same KEK and under the same key id", async () => {
    const kek = await loadOrCreateKeyEncryptionKey(path);
    const key = Buffer.alloc(32, 9);
    const wrapped = wrapKey(kek, "k1", key);
    assert.ok(!Buffer.from(wrapped, "base64").includes(key), "the key is not in the clear");
    assert.deepEqual(unwrapKey(kek, "k1", wrapped, path), key);
    assert.throws(() => unwrapKey(kek, "k2", wrapped, path), UnavailableError);
    assert.throws(() => unwrapKey(Buffer.alloc(32, 2), "k1", wrapped, path), (error: unknown) => error instanceof UnavailableError && error.message.includes(path));
  });
});
