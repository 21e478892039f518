/**
 * Two control-plane nodes on one real etcd: each opens the shared security state with its own etcd client and its
 * own home (the key-encryption key copied as the join does), and what one node does is in force on the other at once.
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, before, beforeEach, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { TooManyRequestsError, UnavailableError } from "../../src/errors/index.ts";
import {
  AUTH_PREFIX,
  base32Decode,
  createSecretCodec,
  ETCD_KEYRING_KEY,
  exportKeyEncryptionKey,
  importKeyEncryptionKey,
  LoginFailedError,
  openSharedSecurity,
  totpAt,
  type LoginFailureReason,
  type SharedSecurity,
} from "../../src/security/index.ts";
import { EtcdClient } from "../../src/store/index.ts";
import { etcdMissing, startEtcd, type TestEtcd } from "../helpers/etcd.ts";

const PASSWORD = "violet kettle on the moon";
const FAST = { argon2: { memoryKiB: 64, passes: 1, parallelism: 1 } };
const STEP_MILLIS = 30_000;

interface Node {
  home: string;
  kekFile: string;
  client: EtcdClient;
  security: SharedSecurity;
}

let etcd: TestEtcd;
const clock = { now: Date.UTC(2027, 0, 1) };
let nodes: Node[] = [];

/** Open a node on the shared etcd; every node after the first receives the first one's KEK, as a join gives it. */
async function openNode(): Promise<Node> {
  const home = await mkdtemp(join(tmpdir(), "holdfast-node-"));
  const kekFile = join(home, "keys", "key-encryption.key");
  const first = nodes[0];
  if (first !== undefined) await importKeyEncryptionKey(kekFile, await exportKeyEncryptionKey(first.kekFile));
  const client = new EtcdClient({ endpoints: etcd.endpoints });
  const security = await openSharedSecurity({ store: "etcd", client, kekFile, auth: { now: () => clock.now, policy: FAST } });
  const node = { home, kekFile, client, security };
  nodes.push(node);
  return node;
}

async function closeNodes(): Promise<void> {
  for (const node of nodes) {
    node.security.close();
    await node.client.close();
    await rm(node.home, { recursive: true, force: true });
  }
  nodes = [];
}

/** The TOTP code at the start of the next step (moving the shared clock there). */
function nextCode(seed: string): string {
  clock.now = (Math.floor(clock.now / STEP_MILLIS) + 1) * STEP_MILLIS;
  return totpAt(base32Decode(seed), clock.now);
}

function failedWith(reason: LoginFailureReason) {
  return (error: unknown): boolean => error instanceof LoginFailedError && error.failureReason === reason;
}

async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe("two control-plane nodes sharing authentication state and the keyring in etcd", { skip: etcdMissing() }, () => {
  let one: Node;
  let two: Node;
  let seed: string;

  before(async () => {
    etcd = await startEtcd();
  });
  after(async () => {
    await etcd.destroy();
  });
  beforeEach(async () => {
    one = await openNode();
    two = await openNode();
    ({ totpSecret: seed } = await one.security.auth.createUser({ username: "alice", password: PASSWORD }));
  });
  afterEach(async () => {
    await closeNodes();
    const admin = new EtcdClient({ endpoints: etcd.endpoints });
    await admin.deleteRange({ key: "/holdfast/", prefix: true });
    await admin.close();
  });

  it("a session created through one node is valid on the other, and a logout on either ends it on both", async () => {
    const { token } = await one.security.auth.login({ username: "alice", password: PASSWORD, totp: nextCode(seed), source: "10.0.0.1" });
    assert.equal((await two.security.auth.authenticate(token))?.username, "alice");
    await two.security.auth.logout(token);
    assert.equal(await one.security.auth.authenticate(token), undefined);
  });

  it("refuses on one node a TOTP code accepted on the other (replay), even when both try at once", async () => {
    const code = nextCode(seed);
    await one.security.auth.login({ username: "alice", password: PASSWORD, totp: code, source: "10.0.0.1" });
    await assert.rejects(two.security.auth.login({ username: "alice", password: PASSWORD, totp: code, source: "10.0.0.1" }), failedWith("totp-replayed"));
    const fresh = nextCode(seed);
    const results = await Promise.allSettled([one, two].map((node) => node.security.auth.login({ username: "alice", password: PASSWORD, totp: fresh, source: "10.0.0.2" })));
    assert.deepEqual(results.map((result) => result.status).sort(), ["fulfilled", "rejected"], "exactly one node accepts the same code");
  });

  it("accepts a recovery code once across the nodes", async () => {
    const { recoveryCodes } = await one.security.auth.resetMfa("alice");
    const code = recoveryCodes[0] ?? "";
    await two.security.auth.login({ username: "alice", password: PASSWORD, recoveryCode: code, source: "10.0.0.1" });
    await assert.rejects(one.security.auth.login({ username: "alice", password: PASSWORD, recoveryCode: code, source: "10.0.0.1" }), failedWith("bad-recovery-code"));
  });

  it("counts failed logins from both nodes into one throttle", async () => {
    const wrong = (node: Node): Promise<unknown> => node.security.auth.login({ username: "alice", password: "not the password at all", totp: "000000", source: "10.9.9.9" });
    await assert.rejects(wrong(one), failedWith("bad-password"));
    // The failure made through node one imposes its delay on node two.
    await assert.rejects(wrong(two), (error: unknown) => error instanceof TooManyRequestsError && error.retryAfterSeconds === 1);
    clock.now += 1000;
    await assert.rejects(wrong(two), failedWith("bad-password"));
    await assert.rejects(wrong(one), (error: unknown) => error instanceof TooManyRequestsError && error.retryAfterSeconds === 2);
    // Concurrent attempts on both nodes in one open window: only one is evaluated, the other waits.
    clock.now += 2000;
    const results = await Promise.allSettled([wrong(one), wrong(two)]);
    const waited = results.filter((result) => result.status === "rejected" && result.reason instanceof TooManyRequestsError);
    assert.equal(waited.length, 1, "the second concurrent attempt already sees the first one's failure");
  });

  it("refuses on the other node at once an API token revoked on one, with the tokens made with it", async () => {
    const parent = await one.security.auth.createToken({ username: "alice", name: "ci", expiresInSeconds: 3600 });
    const parentIdentity = await two.security.auth.authenticate(parent.token);
    assert.equal(parentIdentity?.username, "alice");
    const child = await two.security.auth.createToken({ username: "alice", name: "child", expiresInSeconds: 600, parent: { kind: "token", id: parent.id } });
    assert.ok(await one.security.auth.authenticate(child.token));
    await one.security.auth.revokeToken(parent.id);
    assert.equal(await two.security.auth.authenticate(parent.token), undefined);
    assert.equal(await two.security.auth.authenticate(child.token), undefined);
    assert.deepEqual((await two.security.auth.listTokens("alice")).map((token) => token.revoked), [true, true]);
  });

  it("deleting a user on one node removes its sessions, tokens and codes from etcd and refuses them on the other", async () => {
    const { token: session } = await one.security.auth.login({ username: "alice", password: PASSWORD, totp: nextCode(seed), source: "10.0.0.1" });
    const token = await two.security.auth.createToken({ username: "alice", name: "ci", expiresInSeconds: 3600, parent: { kind: "session", id: session.split("_")[1] ?? "" } });
    await one.security.auth.deleteUser("alice");
    assert.equal(await two.security.auth.authenticate(session), undefined);
    assert.equal(await two.security.auth.authenticate(token.token), undefined);
    const left = (await one.client.range({ key: AUTH_PREFIX, prefix: true })).kvs.map((kv) => kv.key).filter((key) => !key.includes("/login-failures/"));
    assert.deepEqual(left, [], "nothing of alice is left in etcd");
  });

  it("uses on the other node a key rotated on one, without a restart", async () => {
    const before = one.security.keyring.primaryKeyId;
    const rotated = await one.security.keyring.rotate();
    assert.notEqual(rotated, before);
    const ciphertext = one.security.keyring.encrypt(Buffer.from("s3cret"), "v1/Secret/default/db");
    // The watch brings the new key; a decrypt that comes first reads the keyring again at once.
    await until(() => {
      try {
        return two.security.keyring.decrypt(ciphertext, "v1/Secret/default/db").toString() === "s3cret";
      } catch (error) {
        if (error instanceof UnavailableError) return false;
        throw error;
      }
    }, "node two to decrypt with the rotated key");
    await until(() => two.security.keyring.primaryKeyId === rotated, "node two to write with the rotated key");
  });

  it("reads the keyring again when a ciphertext names a key this node does not hold, even without its watch", async () => {
    // Stop node two following the keyring: only the re-read on an unknown key id can bring the new key.
    two.security.close();
    const rotated = await one.security.keyring.rotate();
    const ciphertext = one.security.keyring.encrypt(Buffer.from("s3cret"), "v1/Secret/default/db");
    const secret = { apiVersion: "v1", kind: "Secret", metadata: { namespace: "default", name: "db" }, stringData: { password: "s3cret" } };
    const stored = createSecretCodec(one.security.keyring).encode(secret);
    // Through the store's codec too: a retry (503), never a damaged Secret, and a list is not marked unreadable.
    const codec = createSecretCodec(two.security.keyring);
    assert.throws(() => codec.decode(stored), UnavailableError);
    assert.equal(codec.unreadable?.(stored, new UnavailableError("fetching")), undefined);
    assert.throws(() => two.security.keyring.decrypt(ciphertext, "v1/Secret/default/db"), (error: unknown) => error instanceof UnavailableError && error.message.includes(rotated));
    await until(() => two.security.keyring.listKeys().some((key) => key.id === rotated), "node two to read the keyring again");
    assert.equal(two.security.keyring.decrypt(ciphertext, "v1/Secret/default/db").toString(), "s3cret");
    assert.deepEqual(codec.decode(stored)["data"], { password: Buffer.from("s3cret").toString("base64") });
  });

  it("keeps both rotations when two nodes rotate at once, and both nodes agree on the keys", async () => {
    const [a, b] = await Promise.all([one.security.keyring.rotate(), two.security.keyring.rotate()]);
    assert.notEqual(a, b);
    await until(() => one.security.keyring.listKeys().length === 3 && two.security.keyring.listKeys().length === 3, "both nodes to hold three keys");
    assert.deepEqual(one.security.keyring.listKeys(), two.security.keyring.listKeys());
    assert.equal(one.security.keyring.primaryKeyId, two.security.keyring.primaryKeyId);
  });

  it("rewraps TOTP seeds from either node after a rotation on the other, and logins go on everywhere", async () => {
    const rotated = await one.security.keyring.rotate();
    await until(() => two.security.keyring.primaryKeyId === rotated, "node two to see the rotation");
    assert.equal(await two.security.auth.rewrapWithPrimaryKey(), 1);
    assert.equal(await one.security.auth.rewrapWithPrimaryKey(), 0, "already under the primary key");
    const stored = (await one.client.range({ key: `${AUTH_PREFIX}users/alice` })).kvs[0]?.value ?? "";
    assert.ok(stored.includes(`"totpSecret":"hfenc:v1:${rotated}:`), "the seed is under the rotated key");
    await one.security.auth.login({ username: "alice", password: PASSWORD, totp: nextCode(seed), source: "10.0.0.1" });
  });

  it("keeps only wrapped keys in etcd: no key material, no KEK, no password, seed or session secret", async () => {
    const { token } = await one.security.auth.login({ username: "alice", password: PASSWORD, totp: nextCode(seed), source: "10.0.0.1" });
    const kek = await readFile(one.kekFile);
    assert.equal((await stat(one.kekFile)).mode & 0o777, 0o600);
    assert.equal(kek.length, 32);
    const dump = (await one.client.range({ key: "/holdfast/", prefix: true })).kvs.map((kv) => `${kv.key}=${kv.value}`).join("\n");
    const stored = JSON.parse((await one.client.range({ key: ETCD_KEYRING_KEY })).kvs[0]?.value ?? "{}") as { keys: Record<string, unknown>[] };
    assert.deepEqual(Object.keys(stored.keys[0] ?? {}).sort(), ["createdAt", "id", "wrappedKey"]);
    for (const secret of [kek.toString("base64"), kek.toString("hex"), PASSWORD, seed, token.split("_")[2] ?? "?"]) assert.ok(!dump.includes(secret));
  });

  it("refuses to open on a node without the control plane's KEK, saying what to do", async () => {
    const home = await mkdtemp(join(tmpdir(), "holdfast-node-"));
    const client = new EtcdClient({ endpoints: etcd.endpoints });
    try {
      await assert.rejects(openSharedSecurity({ store: "etcd", client, kekFile: join(home, "kek") }), /does not exist.*first node/);
      await importKeyEncryptionKey(join(home, "other"), Buffer.alloc(32, 7));
      await assert.rejects(openSharedSecurity({ store: "etcd", client, kekFile: join(home, "other") }), /does not unwrap key .*join the node again/);
      await assert.rejects(importKeyEncryptionKey(join(home, "other"), await exportKeyEncryptionKey(one.kekFile)), /already holds a different key-encryption key/);
    } finally {
      await client.close();
      await rm(home, { recursive: true, force: true });
    }
  });
});
