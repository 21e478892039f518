import assert from "node:assert/strict";
import { createPrivateKey, createPublicKey, randomBytes } from "node:crypto";
import { test } from "node:test";
import { ed25519AuthString, ed25519PublicKey, nativePasswordAuthString } from "./auth-hash.ts";

/** Node's own Ed25519 public key of a 32-byte seed (RFC 8032 derives it as MariaDB does, from SHA-512 of the seed). */
function nodePublicKey(seed: Buffer): Buffer {
  const pkcs8 = Buffer.concat([Buffer.from("302e020100300506032b657004220420", "hex"), seed]);
  const jwk = createPublicKey(createPrivateKey({ key: pkcs8, format: "der", type: "pkcs8" })).export({ format: "jwk" });
  return Buffer.from(jwk.x ?? "", "base64url");
}

test("the Ed25519 public key of a 32-byte seed is Node's, for several random seeds", () => {
  for (let i = 0; i < 5; i++) {
    const seed = randomBytes(32);
    assert.deepEqual(ed25519PublicKey(seed), nodePublicKey(seed));
  }
});

test("ed25519 authentication strings are 43 base64 characters without padding, and differ by password", () => {
  const a = ed25519AuthString("correct horse battery staple");
  assert.match(a, /^[A-Za-z0-9+/]{43}$/);
  assert.notEqual(a, ed25519AuthString("correct horse battery staplf"));
  // RFC 8032 test 1: the secret key 9d61…7f60 has the public key d75a…511a.
  const rfc = ed25519PublicKey(Buffer.from("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60", "hex"));
  assert.equal(rfc.toString("hex"), "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
});

test("mysql_native_password is * and the upper-case hex SHA-1 of SHA-1", () => {
  // MariaDB: SELECT PASSWORD('password') = *2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19
  assert.equal(nativePasswordAuthString("password"), "*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19");
});
