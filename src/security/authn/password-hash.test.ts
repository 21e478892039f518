import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { InternalError } from "../../errors/index.ts";
import { formatPasswordHash, hashPassword, needsRehash, OWASP_ARGON2, parsePasswordHash, verifyPassword } from "./password-hash.ts";
import { DEFAULT_AUTH_POLICY } from "./policy.ts";

const CHEAP = { memoryKiB: 64, passes: 1, parallelism: 1 };

describe("password hashing", () => {
  it("writes an argon2id PHC string with a 16-byte salt and a 32-byte hash", async () => {
    const stored = await hashPassword("correct horse battery staple", CHEAP);
    assert.match(stored, /^\$argon2id\$v=19\$m=64,t=1,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    const parsed = parsePasswordHash(stored);
    assert.equal(parsed.salt.length, 16);
    assert.equal(parsed.hash.length, 32);
    assert.equal(formatPasswordHash(parsed), stored);
  });

  it("verifies the right password and refuses others", async () => {
    const stored = await hashPassword("correct horse battery staple", CHEAP);
    assert.equal(await verifyPassword("correct horse battery staple", stored), true);
    assert.equal(await verifyPassword("correct horse battery stapler", stored), false);
    assert.equal(await verifyPassword("", stored), false);
  });

  it("uses a fresh salt each time", async () => {
    assert.notEqual(await hashPassword("same password here", CHEAP), await hashPassword("same password here", CHEAP));
  });

  it("verifies a hash made by the argon2 reference implementation", async () => {
    // echo -n password | argon2 somesalt -id -t 2 -m 16 -p 4 -l 32 -e
    const reference = "$argon2id$v=19$m=65536,t=2,p=4$c29tZXNhbHQ$GpZ3sK/oH9p7VIiV56G/64Zo/8GaUw434IimaPqxwCo";
    assert.equal(await verifyPassword("password", reference), true);
    assert.equal(await verifyPassword("Password", reference), false);
  });

  it("asks for a rehash when the stored parameters are weaker than the policy", async () => {
    const weak = await hashPassword("correct horse battery staple", CHEAP);
    assert.equal(needsRehash(weak, CHEAP), false);
    assert.equal(needsRehash(weak, { ...CHEAP, memoryKiB: 128 }), true);
    assert.equal(needsRehash(weak, { ...CHEAP, passes: 2 }), true);
    assert.equal(needsRehash(weak, { memoryKiB: 32, passes: 1, parallelism: 1 }), false, "a stronger stored hash is kept");
    const shortSalt = "$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHQ$GpZ3sK/oH9p7VIiV56G/64Zo/8GaUw434IimaPqxwCo";
    assert.equal(needsRehash(shortSalt, CHEAP), true, "an 8-byte salt is upgraded");
    assert.equal(needsRehash(shortSalt.replace("argon2id", "argon2i"), CHEAP), true, "argon2i is upgraded to argon2id");
  });

  it("refuses malformed or out-of-range stored hashes as internal errors", async () => {
    assert.throws(() => parsePasswordHash("plaintext"), InternalError);
    assert.throws(() => parsePasswordHash("$argon2id$v=19$m=99999999,t=1,p=1$c29tZXNhbHQ$GpZ3sK/oH9p7VIiV56G/64Zo"), InternalError);
    await assert.rejects(verifyPassword("x", "$argon2id$v=16$m=64,t=1,p=1$c29tZXNhbHQ$GpZ3sK/oH9p7VIiV56G/64Zo"), InternalError);
  });

  it("defaults to at least OWASP's argon2id parameters (19 MiB, 2 passes, 1 lane)", () => {
    assert.ok(DEFAULT_AUTH_POLICY.argon2.memoryKiB >= 19 * 1024);
    assert.ok(DEFAULT_AUTH_POLICY.argon2.passes >= 2);
    assert.ok(DEFAULT_AUTH_POLICY.argon2.parallelism >= 1);
    assert.deepEqual(OWASP_ARGON2, { memoryKiB: 19456, passes: 2, parallelism: 1 });
  });
});
