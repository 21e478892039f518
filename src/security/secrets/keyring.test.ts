import { afterEach, beforeEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InternalError, UnavailableError } from "../../errors/index.ts";
import { loadOrCreateKeyring } from "./keyring.ts";

let dir: string;
let path: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "holdfast-keyring-"));
  path = join(dir, "keys", "secrets.keyring.json");
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const plaintext = Buffer.from("correct horse battery staple", "utf8");
const owner = "v1/Secret/default/db-password";

/** Flip one bit of the decoded payload at `index` and re-encode. */
function tamper(ciphertext: string, index: number): string {
  const at = ciphertext.lastIndexOf(":");
  const payload = Buffer.from(ciphertext.slice(at + 1), "base64url");
  payload[index] = (payload[index] ?? 0) ^ 0x01;
  return `${ciphertext.slice(0, at + 1)}${payload.toString("base64url")}`;
}

describe("keyring", () => {
  it("creates a private file in a private directory and round-trips", async () => {
    const keyring = await loadOrCreateKeyring(path);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, "keys")).mode & 0o777, 0o700);
    const ciphertext = keyring.encrypt(plaintext, owner);
    assert.match(ciphertext, new RegExp(`^hfenc:v1:${keyring.primaryKeyId}:[A-Za-z0-9_-]+$`));
    assert.ok(!ciphertext.includes(plaintext.toString("base64")));
    assert.deepEqual(keyring.decrypt(ciphertext, owner), plaintext);
    // 12-byte IV + plaintext + 16-byte tag.
    assert.equal(Buffer.from(ciphertext.split(":")[3] ?? "", "base64url").length, 12 + plaintext.length + 16);
  });

  it("uses a fresh IV for every encryption", async () => {
    const keyring = await loadOrCreateKeyring(path);
    assert.notEqual(keyring.encrypt(plaintext, owner), keyring.encrypt(plaintext, owner));
  });

  it("loads the same keys again after a restart", async () => {
    const ciphertext = (await loadOrCreateKeyring(path)).encrypt(plaintext, owner);
    const reloaded = await loadOrCreateKeyring(path);
    assert.deepEqual(reloaded.decrypt(ciphertext, owner), plaintext);
  });

  it("detects a modified byte anywhere: IV, body or tag", async () => {
    const keyring = await loadOrCreateKeyring(path);
    const ciphertext = keyring.encrypt(plaintext, owner);
    for (const index of [0, 11, 12, 12 + plaintext.length - 1, 12 + plaintext.length, 12 + plaintext.length + 15]) {
      assert.throws(() => keyring.decrypt(tamper(ciphertext, index), owner), (error: unknown) => error instanceof InternalError && /authentication failed/.test(error.message));
    }
    assert.throws(() => keyring.decrypt(ciphertext.slice(0, 30), owner), InternalError);
    assert.throws(() => keyring.decrypt("not a ciphertext", owner), /not a Holdfast ciphertext/);
  });

  it("refuses a ciphertext moved to another owner", async () => {
    const keyring = await loadOrCreateKeyring(path);
    const ciphertext = keyring.encrypt(plaintext, owner);
    assert.throws(() => keyring.decrypt(ciphertext, "v1/Secret/default/other"), /authentication failed/);
  });

  it("names an unknown key id", async () => {
    const keyring = await loadOrCreateKeyring(path);
    const ciphertext = keyring.encrypt(plaintext, owner).replace(keyring.primaryKeyId, "0123456789abcdef");
    assert.throws(() => keyring.decrypt(ciphertext, owner), (error: unknown) => error instanceof InternalError && error.message.includes("key 0123456789abcdef is not in the keyring"));
  });

  it("rotates: new writes use the new key, old ciphertexts still decrypt, and the file keeps both", async () => {
    const keyring = await loadOrCreateKeyring(path);
    const oldId = keyring.primaryKeyId;
    const old = keyring.encrypt(plaintext, owner);
    const newId = await keyring.rotate();
    assert.notEqual(newId, oldId);
    assert.equal(keyring.primaryKeyId, newId);
    assert.ok(keyring.encrypt(plaintext, owner).startsWith(`hfenc:v1:${newId}:`));
    assert.deepEqual(keyring.decrypt(old, owner), plaintext);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(join(dir, "keys")), ["secrets.keyring.json"]);
    const reloaded = await loadOrCreateKeyring(path);
    assert.equal(reloaded.primaryKeyId, newId);
    assert.deepEqual(reloaded.decrypt(old, owner), plaintext);
  });

  it("serialises concurrent rotations", async () => {
    const keyring = await loadOrCreateKeyring(path);
    const ids = await Promise.all([keyring.rotate(), keyring.rotate(), keyring.rotate()]);
    const file = JSON.parse(readFileSync(path, "utf8")) as { keys: { id: string }[]; primaryKeyId: string };
    assert.equal(file.keys.length, 4);
    assert.equal(file.primaryKeyId, ids[2]);
  });

  it("refuses a keyring file others can read, naming the path and chmod 600", async () => {
    await loadOrCreateKeyring(path);
    chmodSync(path, 0o644);
    await assert.rejects(loadOrCreateKeyring(path), (error: unknown) => {
      assert.ok(error instanceof UnavailableError);
      assert.ok(error.message.includes(path));
      assert.ok(error.message.includes("chmod 600"));
      return true;
    });
  });

  it("refuses a corrupt keyring file instead of replacing it", async () => {
    await loadOrCreateKeyring(path);
    writeFileSync(path, "{}", { mode: 0o600 });
    await assert.rejects(loadOrCreateKeyring(path), UnavailableError);
    assert.equal(readFileSync(path, "utf8"), "{}");
  });
});
