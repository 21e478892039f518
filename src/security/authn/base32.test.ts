import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { InvalidError } from "../../errors/index.ts";
import { base32Decode, base32Encode } from "./base32.ts";

// RFC 4648 section 10.
const VECTORS: [string, string][] = [
  ["", ""],
  ["f", "MY======"],
  ["fo", "MZXQ===="],
  ["foo", "MZXW6==="],
  ["foob", "MZXW6YQ="],
  ["fooba", "MZXW6YTB"],
  ["foobar", "MZXW6YTBOI======"],
];

describe("base32", () => {
  it("encodes the RFC 4648 test vectors", () => {
    for (const [plain, encoded] of VECTORS) assert.equal(base32Encode(Buffer.from(plain, "ascii")), encoded, plain);
  });

  it("decodes the RFC 4648 test vectors, with or without padding and in any case", () => {
    for (const [plain, encoded] of VECTORS) {
      assert.equal(base32Decode(encoded).toString("ascii"), plain);
      assert.equal(base32Decode(encoded.replace(/=/g, "").toLowerCase()).toString("ascii"), plain);
    }
  });

  it("omits padding on request and round-trips random bytes", () => {
    assert.equal(base32Encode(Buffer.from("foobar"), false), "MZXW6YTBOI");
    for (let length = 0; length < 40; length++) {
      const bytes = Buffer.from(Array.from({ length }, (_, i) => (i * 37 + length) & 0xff));
      assert.deepEqual(base32Decode(base32Encode(bytes)), bytes);
    }
  });

  it("rejects characters outside the alphabet", () => {
    assert.throws(() => base32Decode("MZXW6YT1"), InvalidError);
    assert.throws(() => base32Decode("MZXW0YTB"), InvalidError);
  });
});
