import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { hashSecret, isWellFormedApiToken, mintApiToken, mintSessionToken, parseBearer, secretMatches } from "./credentials.ts";

/** Replace the character at `index` with another one of the same alphabet. */
function typo(text: string, index: number): string {
  const char = text.charAt(index);
  const replacement = char === "a" ? "b" : char === "0" ? "1" : /[0-9]/.test(char) ? "0" : "a";
  return `${text.slice(0, index)}${replacement}${text.slice(index + 1)}`;
}

describe("credentials", () => {
  it("mints session tokens hfs_<id>_<secret> with a 256-bit secret stored only as its hash", () => {
    const minted = mintSessionToken();
    assert.match(minted.bearer, /^hfs_[a-z2-7]{16}_[a-z2-7]{52}$/);
    const parsed = parseBearer(minted.bearer);
    assert.deepEqual(parsed && { kind: parsed.kind, id: parsed.id }, { kind: "session", id: minted.id });
    assert.ok((parsed?.secret.length ?? 0) * 5 >= 256);
    assert.ok(secretMatches(parsed?.secret ?? "", minted.secretHash));
    assert.ok(!minted.secretHash.toString("latin1").includes(parsed?.secret ?? "?"));
    assert.notEqual(mintSessionToken().bearer, minted.bearer);
  });

  it("mints API tokens hfat_<id>_<secret>_<crc32> that parse back", () => {
    const minted = mintApiToken();
    assert.match(minted.bearer, /^hfat_[a-z2-7]{16}_[a-z2-7]{52}_[0-9a-f]{8}$/);
    assert.ok(isWellFormedApiToken(minted.bearer));
    const parsed = parseBearer(minted.bearer);
    assert.equal(parsed?.kind, "token");
    assert.equal(parsed.id, minted.id);
    assert.ok(secretMatches(parsed.secret, minted.secretHash));
  });

  it("detects a typo anywhere in an API token without a database", () => {
    const bearer = mintApiToken().bearer;
    for (let index = "hfat_".length; index < bearer.length; index++) {
      if (bearer.charAt(index) === "_") continue;
      const mistyped = typo(bearer, index);
      assert.equal(isWellFormedApiToken(mistyped), false, `typo at ${index}`);
      assert.equal(parseBearer(mistyped), undefined);
    }
  });

  it("refuses anything that is not one of the two shapes", () => {
    for (const bearer of ["", "hfs_", "Bearer hfs_x", "hfat_abc", mintSessionToken().bearer + "x", ` ${mintApiToken().bearer}`]) {
      assert.equal(parseBearer(bearer), undefined, bearer);
    }
  });

  it("compares secrets by hash", () => {
    const stored = hashSecret("abc");
    assert.ok(secretMatches("abc", stored));
    assert.ok(!secretMatches("abd", stored));
    assert.ok(!secretMatches("abc", stored.subarray(1)));
  });
});
