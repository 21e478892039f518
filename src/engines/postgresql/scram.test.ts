import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { scramSha256Verifier } from "./scram.ts";
import { InvalidError } from "../../errors/index.ts";

describe("scramSha256Verifier", () => {
  it("matches the verifier PostgreSQL 15 stored for the same password and salt", () => {
    // From `CREATE ROLE v PASSWORD 'pencil-Ab1 x'` on PostgreSQL 15, read back from pg_authid.
    const fromPostgres = "SCRAM-SHA-256$4096:DJ0Wddo77TK1Xln3PbW//g==$138G1ut0NdwDIu+hwvYFEroijmkjMn0uQLY0zkAWMno=:Ghy70CZ+KmvyojuGgwVYUJmDn6SnpNBK0k9tQ4iS5Zc=";
    assert.equal(scramSha256Verifier("pencil-Ab1 x", { salt: Buffer.from("DJ0Wddo77TK1Xln3PbW//g==", "base64") }), fromPostgres);
  });

  it("uses a fresh 16-byte salt each time", () => {
    const a = scramSha256Verifier("secret");
    const b = scramSha256Verifier("secret");
    assert.notEqual(a, b);
    assert.match(a, /^SCRAM-SHA-256\$4096:[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=:[A-Za-z0-9+/]{43}=$/);
    assert.ok(!a.includes("secret"));
  });

  for (const bad of ["", "naïve", "tab\there"]) {
    it(`refuses ${JSON.stringify(bad)}`, () => {
      assert.throws(() => scramSha256Verifier(bad), InvalidError);
    });
  }
});
