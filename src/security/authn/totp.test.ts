import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { base32Decode } from "./base32.ts";
import { hotp, matchTotp, otpauthUri, totpAt, totpStep } from "./totp.ts";

const RFC_SECRET = Buffer.from("12345678901234567890", "ascii");

describe("TOTP", () => {
  it("matches the RFC 6238 Appendix B SHA-1 vectors (8 digits)", () => {
    const vectors: [number, string][] = [
      [59, "94287082"],
      [1111111109, "07081804"],
      [1111111111, "14050471"],
      [1234567890, "89005924"],
      [2000000000, "69279037"],
      [20000000000, "65353130"],
    ];
    for (const [seconds, code] of vectors) assert.equal(totpAt(RFC_SECRET, seconds * 1000, 8), code, `T=${seconds}`);
  });

  it("matches the RFC 4226 Appendix D HOTP vectors (6 digits)", () => {
    const expected = ["755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489"];
    expected.forEach((code, counter) => assert.equal(hotp(RFC_SECRET, counter), code));
  });

  it("accepts one step of skew either way and reports the step that matched", () => {
    const now = 1_700_000_000_000;
    const step = totpStep(now);
    assert.equal(matchTotp(RFC_SECRET, hotp(RFC_SECRET, step), now), step);
    assert.equal(matchTotp(RFC_SECRET, hotp(RFC_SECRET, step - 1), now), step - 1);
    assert.equal(matchTotp(RFC_SECRET, hotp(RFC_SECRET, step + 1), now), step + 1);
    assert.equal(matchTotp(RFC_SECRET, hotp(RFC_SECRET, step - 2), now), undefined);
    assert.equal(matchTotp(RFC_SECRET, hotp(RFC_SECRET, step + 2), now), undefined);
  });

  it("refuses malformed codes", () => {
    const now = 1_700_000_000_000;
    const code = totpAt(RFC_SECRET, now);
    assert.equal(matchTotp(RFC_SECRET, "", now), undefined);
    assert.equal(matchTotp(RFC_SECRET, `${code}0`, now), undefined);
    assert.equal(matchTotp(RFC_SECRET, code.slice(1), now), undefined);
    assert.equal(matchTotp(RFC_SECRET, `${code.slice(0, 3)} ${code.slice(3)}`, now), totpStep(now), "a space typed in the middle is ignored");
  });

  it("builds an otpauth URI that carries the seed in base32 and the parameters", () => {
    const uri = new URL(otpauthUri(RFC_SECRET, "Holdfast", "alice@example.com"));
    assert.equal(uri.protocol, "otpauth:");
    assert.equal(uri.host, "totp");
    assert.equal(decodeURIComponent(uri.pathname), "/Holdfast:alice@example.com");
    assert.deepEqual(base32Decode(uri.searchParams.get("secret") ?? ""), RFC_SECRET);
    assert.equal(uri.searchParams.get("issuer"), "Holdfast");
    assert.equal(uri.searchParams.get("digits"), "6");
    assert.equal(uri.searchParams.get("period"), "30");
    assert.equal(uri.searchParams.get("algorithm"), "SHA1");
  });
});
