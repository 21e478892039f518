import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import type { Resource } from "../../api/index.ts";
import { GoneError } from "../../errors/index.ts";
import { openSqliteStore, type Store, type WatchEvent } from "../../store/index.ts";
import { AuthService, type AuthPolicy, type NewUserSecrets } from "../authn/index.ts";
import { loadOrCreateKeyring, type Keyring } from "./keyring.ts";
import { describeKeyring, rotateSecretKey } from "./keyring-admin.ts";
import { rewrapSecrets } from "./rewrap.ts";
import { createSecretCodec } from "./secret-codec.ts";

/** Cheap argon2 for tests only. */
const FAST: Partial<AuthPolicy> = { argon2: { memoryKiB: 64, passes: 1, parallelism: 1 } };
const PASSWORD = "violet kettle on the moon";
const NAMES = ["db-a", "db-b", "db-c"];

function secret(name: string, password: string): Resource {
  return { apiVersion: "v1", kind: "Secret", metadata: { name, namespace: "default" }, type: "Opaque", stringData: { password } };
}

function ref(name: string): { kind: string; namespace: string; name: string } {
  return { kind: "Secret", namespace: "default", name };
}

function base64(text: string): string {
  return Buffer.from(text, "utf8").toString("base64");
}

/** The bytes of a database and its -wal and -shm files, as far as they exist. */
function filesOf(path: string): Buffer {
  return Buffer.concat([path, `${path}-wal`, `${path}-shm`].filter((file) => existsSync(file)).map((file) => readFileSync(file)));
}

/** Every keyring ciphertext a query's first column yields, read through a connection closed right after. */
function ciphertexts(path: string, sql: string): string[] {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    return db
      .prepare(sql)
      .all()
      .flatMap((row) => Object.values(row).map(String))
      .flatMap((value) => value.match(/hfenc:v1:[A-Za-z0-9_-]+:[A-Za-z0-9_-]+/g) ?? []);
  } finally {
    db.close();
  }
}

/** Pieces of a ciphertext's body short enough that one of them survives being split across database pages. */
function pieces(ciphertext: string): string[] {
  const body = ciphertext.slice(ciphertext.lastIndexOf(":") + 1);
  const out: string[] = [];
  for (let at = 0; at + 16 <= body.length; at += 16) out.push(body.slice(at, at + 16));
  return out;
}

function base32Decode(text: string): Buffer {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  const bits = Array.from(text.toUpperCase(), (char) => alphabet.indexOf(char).toString(2).padStart(5, "0")).join("");
  return Buffer.from(bits.match(/.{8}/g)?.map((byte) => parseInt(byte, 2)) ?? []);
}

/** RFC 6238 with SHA-1, 30-second steps and 6 digits, as authenticator apps compute it. */
function totpNow(secret: string): string {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 30_000)));
  const mac = createHmac("sha1", base32Decode(secret)).update(counter).digest();
  const offset = (mac[mac.length - 1] ?? 0) & 0x0f;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, "0");
}

describe("rotate-key and rewrap", () => {
  let dir: string;
  let storePath: string;
  let authPath: string;
  let keyring: Keyring;
  let store: Store;
  let auth: AuthService;
  let aliceTotp: string;
  let bob: NewUserSecrets;
  let firstRevision: string;
  const latest = new Map<string, string>();
  const old: string[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "holdfast-rewrap-"));
    storePath = join(dir, "store.db");
    authPath = join(dir, "auth.db");
    keyring = await loadOrCreateKeyring(join(dir, "keys", "keyring.json"));
    store = openSqliteStore({ path: storePath, codec: createSecretCodec(keyring) });
    auth = await AuthService.open({ path: authPath, keyring, policy: FAST });

    // Three Secrets written four times each, and one created and deleted: history holds every older ciphertext.
    for (const name of NAMES) {
      const created = await store.create(secret(name, `${name}-v0-Xq7`));
      firstRevision ||= created.metadata.resourceVersion ?? "";
      for (let version = 1; version <= 3; version += 1) {
        const current = await store.get(ref(name));
        latest.set(name, `${name}-v${version}-Xq7`);
        await store.update({ ...current, stringData: { password: latest.get(name) } } as Resource);
      }
    }
    await store.create(secret("gone", "gone-Xq7"));
    await store.delete(ref("gone"));
    await store.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: "kept" } });

    // The TOTP seed alice had before her reset is superseded, but its ciphertext is still in the database files.
    await auth.createUser({ username: "alice", password: PASSWORD });
    old.push(...ciphertexts(authPath, "SELECT totp_secret FROM users"));
    bob = await auth.createUser({ username: "bob", password: PASSWORD });
    aliceTotp = (await auth.resetMfa("alice")).totpSecret;
    old.push(...ciphertexts(authPath, "SELECT totp_secret FROM users"));
    old.push(...ciphertexts(storePath, "SELECT object FROM objects UNION ALL SELECT object FROM changes"));
  });

  after(() => {
    store.close();
    auth.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("finds the old ciphertexts in the files before the rewrap, so the search below can fail", () => {
    const oldKeyId = keyring.primaryKeyId;
    assert.ok(old.length >= 3 * 4 + 2 + 3, `collected ${old.length} ciphertexts`);
    assert.ok(old.every((ciphertext) => ciphertext.startsWith(`hfenc:v1:${oldKeyId}:`)));
    const bytes = Buffer.concat([filesOf(storePath), filesOf(authPath)]);
    assert.ok(bytes.includes(`hfenc:v1:${oldKeyId}:`));
    assert.ok(old.every((ciphertext) => pieces(ciphertext).some((piece) => bytes.includes(piece))));
  });

  it("rotates: new writes use the new key, Secrets and TOTP seeds written before still read", async () => {
    const before = describeKeyring(keyring);
    const rotation = await rotateSecretKey(keyring);
    assert.equal(rotation.previousPrimaryKeyId, before.primaryKeyId);
    assert.notEqual(rotation.primaryKeyId, before.primaryKeyId);
    assert.equal(keyring.primaryKeyId, rotation.primaryKeyId);

    const described = describeKeyring(keyring);
    assert.deepEqual(
      described.keys.map((key) => [key.id, key.primary]),
      [
        [before.primaryKeyId, false],
        [rotation.primaryKeyId, true],
      ],
    );
    assert.ok(described.keys.every((key) => typeof key.createdAt === "string" && Object.keys(key).sort().join() === "createdAt,id,primary"));
    const file = JSON.parse(readFileSync(join(dir, "keys", "keyring.json"), "utf8")) as { keys: { key: string }[] };
    assert.equal(file.keys.length, 2);
    for (const { key } of file.keys) assert.equal(JSON.stringify(described).includes(key), false, "no key material");

    for (const name of NAMES) assert.deepEqual((await store.get(ref(name)))?.["data"], { password: base64(latest.get(name) ?? "") });
    await store.create(secret("after-rotation", "fresh-Xq7"));
    const [written] = ciphertexts(storePath, "SELECT object FROM objects WHERE name = 'after-rotation'");
    assert.ok(written?.startsWith(`hfenc:v1:${rotation.primaryKeyId}:`));
    // The old keys still decrypt: alice logs in with the seed encrypted before the rotation.
    const session = await auth.login({ username: "alice", password: PASSWORD, totp: totpNow(aliceTotp), source: "127.0.0.1" });
    assert.equal(session.username, "alice");
  });

  it("rewraps: every Secret reads back, no file holds an old ciphertext, and old watches get Gone", async () => {
    const [oldKey, newKey] = describeKeyring(keyring).keys.map((key) => key.id);
    const events: WatchEvent[] = [];
    const live = store.watch({ kind: "Secret" }, (event) => events.push(event));

    const result = await rewrapSecrets({ store, auth, keyring });
    assert.deepEqual({ ...result, historyPurged: result.historyPurged > 0 }, { primaryKeyId: newKey, secrets: 3, authRecords: 2, historyPurged: true });

    // (a) Every Secret decrypts to its latest value.
    for (const name of NAMES) assert.deepEqual((await store.get(ref(name)))?.["data"], { password: base64(latest.get(name) ?? "") });
    assert.deepEqual((await store.get(ref("after-rotation")))?.["data"], { password: base64("fresh-Xq7") });
    // A watch running across the rewrap sees each re-encrypted Secret as a MODIFIED event with unchanged data.
    await new Promise((resolve) => setImmediate(resolve));
    live.stop();
    assert.deepEqual(events.map((event) => `${event.type} ${event.object.metadata.name}`).sort(), NAMES.map((name) => `MODIFIED ${name}`));
    assert.deepEqual(events.map((event) => event.object["data"]).sort(), NAMES.map((name) => ({ password: base64(latest.get(name) ?? "") })));

    // (b) No file of either database holds the old key id in a ciphertext, or any piece of an old ciphertext.
    const bytes = Buffer.concat([filesOf(storePath), filesOf(authPath)]);
    assert.ok(bytes.includes(`hfenc:v1:${newKey}:`), "the search does find ciphertexts");
    assert.equal(bytes.includes(`hfenc:v1:${oldKey}:`), false, "an old-key ciphertext is left in the files");
    for (const ciphertext of old) {
      for (const piece of pieces(ciphertext)) assert.equal(bytes.includes(piece), false, `a piece of an old ciphertext is left: ${piece}`);
    }
    assert.deepEqual(
      ciphertexts(storePath, "SELECT object FROM objects UNION ALL SELECT object FROM changes").filter((c) => !c.startsWith(`hfenc:v1:${newKey}:`)),
      [],
    );

    // (c) A watch resuming from a purged revision is told to list again.
    assert.throws(() => store.watch({ resourceVersion: firstRevision }, () => undefined), GoneError);
    const list = await store.list("Secret");
    store.watch({ resourceVersion: list.resourceVersion }, () => undefined).stop();
    assert.ok(await store.get({ kind: "Namespace", name: "kept" }));

    // The TOTP seeds still work: bob logs in with the seed re-encrypted under the new key.
    const [bobSeed] = ciphertexts(authPath, "SELECT totp_secret FROM users WHERE username = 'bob'");
    assert.ok(bobSeed?.startsWith(`hfenc:v1:${newKey}:`));
    const session = await auth.login({ username: "bob", password: PASSWORD, totp: totpNow(bob.totpSecret), source: "127.0.0.1" });
    assert.equal(session.username, "bob");
  });

  it("does nothing the second time", async () => {
    const result = await rewrapSecrets({ store, auth, keyring });
    assert.deepEqual(result, { primaryKeyId: keyring.primaryKeyId, secrets: 0, authRecords: 0, historyPurged: 0 });
  });
});

describe("rewrap while a controller writes", () => {
  it("re-reads a Secret changed under it and keeps the controller's write", async () => {
    const dir = mkdtempSync(join(tmpdir(), "holdfast-rewrap-race-"));
    const keyring = await loadOrCreateKeyring(join(dir, "keys", "keyring.json"));
    const store = openSqliteStore({ path: join(dir, "store.db"), codec: createSecretCodec(keyring) });
    const auth = await AuthService.open({ path: join(dir, "auth.db"), keyring, policy: FAST });
    try {
      await store.create(secret("db-a", "a-Xq7"));
      await store.create(secret("db-b", "b-Xq7"));
      const { previousPrimaryKeyId } = await rotateSecretKey(keyring);
      // The first write rewrap attempts on db-a finds that a controller has just changed db-a.
      const racing = Object.create(store) as Store;
      let raced = 0;
      racing.update = async <T extends Resource>(object: T): Promise<T> => {
        if (object.metadata.name === "db-a" && raced === 0) {
          raced += 1;
          const current = await store.get(ref("db-a"));
          await store.update({ ...current, stringData: { password: "controller-Xq7" } } as Resource);
        }
        return store.update(object);
      };
      const result = await rewrapSecrets({ store: racing, auth, keyring });
      assert.equal(raced, 1);
      assert.equal(result.secrets, 1, "db-a was re-encrypted by the controller's own write, db-b by the rewrap");
      assert.deepEqual((await store.get(ref("db-a")))?.["data"], { password: base64("controller-Xq7") });
      assert.deepEqual((await store.get(ref("db-b")))?.["data"], { password: base64("b-Xq7") });
      const left = ciphertexts(join(dir, "store.db"), "SELECT object FROM objects UNION ALL SELECT object FROM changes");
      assert.ok(left.length >= 2);
      assert.equal(left.filter((ciphertext) => ciphertext.includes(`:${previousPrimaryKeyId}:`)).length, 0);
    } finally {
      store.close();
      auth.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
