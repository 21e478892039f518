import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Resource } from "../../api/index.ts";
import { openSqliteStore, type StorageCodec, type Store } from "../../store/index.ts";
import { loadOrCreateKeyring, type Keyring } from "./keyring.ts";
import { createSecretCodec } from "./secret-codec.ts";

const PASSWORD = "Sup3r-s3cret-Passw0rd-7c1f";
const PASSWORD_BASE64 = Buffer.from(PASSWORD, "utf8").toString("base64");

let dir: string;
let keyring: Keyring;
let codec: StorageCodec;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "holdfast-codec-"));
  keyring = await loadOrCreateKeyring(join(dir, "keys", "keyring.json"));
  codec = createSecretCodec(keyring);
});
after(() => rmSync(dir, { recursive: true, force: true }));

function secret(name: string, fields: Partial<Resource> = {}): Resource {
  return { apiVersion: "v1", kind: "Secret", metadata: { name, namespace: "default", labels: { app: "pg" } }, type: "Opaque", ...fields };
}

describe("secret codec", () => {
  it("encrypts data into one encryptedData field and decodes it back", () => {
    const original = secret("db", { data: { password: PASSWORD_BASE64, username: "cG9zdGdyZXM=" } });
    const encoded = codec.encode(original);
    assert.equal(encoded["data"], undefined);
    assert.ok(typeof encoded["encryptedData"] === "string" && encoded["encryptedData"].startsWith(`hfenc:v1:${keyring.primaryKeyId}:`));
    assert.ok(!JSON.stringify(encoded).includes(PASSWORD_BASE64));
    assert.deepEqual(encoded.metadata, original.metadata);
    assert.deepEqual(codec.decode(encoded), original);
  });

  it("folds stringData into data as base64", () => {
    const encoded = codec.encode(secret("db", { data: { a: "YQ==" }, stringData: { password: PASSWORD } }));
    assert.equal(encoded["stringData"], undefined);
    assert.deepEqual(codec.decode(encoded)["data"], { a: "YQ==", password: PASSWORD_BASE64 });
  });

  it("drops an encryptedData field a caller supplied", () => {
    const injected = secret("db", { encryptedData: "hfenc:v1:forged:AAAA" });
    assert.deepEqual(codec.encode(injected), secret("db"));
  });

  it("refuses a ciphertext moved to another Secret's name", () => {
    const encoded = codec.encode(secret("db", { data: { password: PASSWORD_BASE64 } }));
    const moved = { ...encoded, metadata: { ...encoded.metadata, name: "other" } };
    assert.throws(() => codec.decode(moved), /authentication failed/);
  });

  it("passes other kinds through unchanged", () => {
    const cluster: Resource = { apiVersion: "apps.kubeblocks.io/v1", kind: "Cluster", metadata: { name: "c", namespace: "default" }, spec: { data: { a: "b" } } };
    assert.equal(codec.encode(cluster), cluster);
    assert.equal(codec.decode(cluster), cluster);
  });

  it("keeps Secrets written before a rotation readable, and writes new ones with the new key", async () => {
    const before = codec.encode(secret("db", { data: { password: PASSWORD_BASE64 } }));
    const newId = await keyring.rotate();
    const afterRotation = codec.encode(secret("db", { data: { password: PASSWORD_BASE64 } }));
    assert.ok(String(afterRotation["encryptedData"]).startsWith(`hfenc:v1:${newId}:`));
    assert.deepEqual(codec.decode(before)["data"], { password: PASSWORD_BASE64 });
    assert.deepEqual(codec.decode(afterRotation)["data"], { password: PASSWORD_BASE64 });
  });
});

describe("secrets at rest in the embedded store", () => {
  let store: Store;
  let path: string;

  before(() => {
    path = join(dir, "store.db");
    store = openSqliteStore({ path, codec });
  });
  after(() => store.close());

  it("never writes the password or its base64 to the store files", async () => {
    const created = await store.create(secret("db-credentials", { stringData: { password: PASSWORD } }));
    assert.deepEqual(created["data"], { password: PASSWORD_BASE64 });
    assert.equal(created["encryptedData"], undefined);
    const read = await store.get({ kind: "Secret", namespace: "default", name: "db-credentials" });
    assert.deepEqual(read?.["data"], { password: PASSWORD_BASE64 });
    await store.update({ ...created, metadata: { ...created.metadata, labels: { rotated: "yes" } } });
    await store.delete({ kind: "Secret", namespace: "default", name: "db-credentials" });

    const files = [path, `${path}-wal`];
    const bytes = Buffer.concat(files.map((file) => readFileSync(file)));
    assert.ok(bytes.length > 0);
    // The same bytes do hold the non-secret parts of the object, so the search itself works.
    assert.ok(bytes.includes("db-credentials"));
    assert.ok(bytes.includes("hfenc:v1:"));
    for (const needle of [PASSWORD, PASSWORD_BASE64, Buffer.from(PASSWORD, "utf8").toString("base64url")]) {
      assert.equal(bytes.includes(needle), false, `found a form of the password in the store files`);
    }
  });
});

describe("a Secret that no longer decrypts", () => {
  it("is an error naming it, and a list shows it marked, without data and without the ciphertext", () => {
    const encoded = codec.encode(secret("db", { data: { password: PASSWORD_BASE64 } }));
    const moved = { ...encoded, metadata: { ...encoded.metadata, name: "other" } };
    assert.throws(() => codec.decode(moved), (error: Error) => error.name === "DamagedDataError" && /Secret default\/other cannot be decrypted/.test(error.message));
    let failure: unknown;
    try {
      codec.decode(moved);
    } catch (error) {
      failure = error;
    }
    const shown = codec.unreadable?.(moved, failure);
    assert.equal(shown?.["encryptedData"], undefined);
    assert.equal(shown?.["data"], undefined);
    assert.match(shown?.metadata.annotations?.["holdfast.io/unreadable"] ?? "", /cannot be decrypted/);
    assert.equal(codec.unreadable?.({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c" } }, failure), undefined);
  });

  it("does not stop a list of the store: the others read as usual", async () => {
    const store: Store = openSqliteStore({ path: join(dir, "unreadable.db"), codec });
    await store.create(secret("good", { stringData: { password: PASSWORD } }));
    await store.create(secret("bad", { stringData: { password: PASSWORD } }));
    store.close();
    // Another keyring cannot decrypt what this one wrote: every Secret of the file is unreadable to it but "good" is re-created.
    const otherKeyring = await loadOrCreateKeyring(join(dir, "keys", "other.json"));
    const other = openSqliteStore({ path: join(dir, "unreadable.db"), codec: createSecretCodec(otherKeyring) });
    await other.delete({ kind: "Secret", namespace: "default", name: "good" });
    await other.create(secret("good", { stringData: { password: PASSWORD } }));
    const { items } = await other.list("Secret", { namespace: "default" });
    assert.deepEqual(items.map((s) => [s.metadata.name, s.metadata.annotations?.["holdfast.io/unreadable"] === undefined]).sort(), [["bad", false], ["good", true]]);
    await assert.rejects(other.get({ kind: "Secret", namespace: "default", name: "bad" }), /Secret default\/bad cannot be decrypted/);
    other.close();
  });
});
