import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { compareLsn, formatLsn, laterLsn, parseLsn, timelineOfWalFile, walBytesBetween } from "./lsn.ts";
import { InvalidError } from "../../errors/index.ts";

describe("parseLsn / formatLsn", () => {
  const cases: [string, bigint][] = [
    ["0/0", 0n],
    ["0/3000148", 0x3000148n],
    ["1/0", 1n << 32n],
    ["16/B374D848", (0x16n << 32n) | 0xb374d848n],
    ["FFFFFFFF/FFFFFFFF", (1n << 64n) - 1n],
  ];
  for (const [text, position] of cases) {
    it(`${text} ↔ ${position}`, () => {
      assert.equal(parseLsn(text), position);
      assert.equal(formatLsn(position), text);
    });
  }

  it("accepts lower case", () => {
    assert.equal(parseLsn("16/b374d848"), parseLsn("16/B374D848"));
  });

  for (const bad of ["", "0", "0/", "/0", "0/123456789", "g/0", "0/0/0", " 0/0"]) {
    it(`refuses ${JSON.stringify(bad)}`, () => {
      assert.throws(() => parseLsn(bad), InvalidError);
    });
  }
});

describe("compareLsn", () => {
  it("orders numerically, not as text", () => {
    assert.ok(compareLsn("0/A0000000", "1/0") < 0);
    assert.ok(compareLsn("0/9", "0/10") < 0);
    assert.equal(compareLsn("0/10", "0/10"), 0);
    assert.ok(compareLsn("2/0", "1/FFFFFFFF") > 0);
  });

  it("puts undefined before any position", () => {
    assert.ok(compareLsn(undefined, "0/0") < 0);
    assert.ok(compareLsn("0/0", undefined) > 0);
    assert.equal(compareLsn(undefined, undefined), 0);
  });
});

describe("walBytesBetween / laterLsn", () => {
  it("counts bytes across the 4 GiB boundary and never goes negative", () => {
    assert.equal(walBytesBetween("0/FFFFFF00", "1/100"), 0x200);
    assert.equal(walBytesBetween("0/200", "0/100"), 0);
  });

  it("picks the later LSN and ignores undefined", () => {
    assert.equal(laterLsn("0/200", "0/100"), "0/200");
    assert.equal(laterLsn("0/100", "1/0"), "1/0");
    assert.equal(laterLsn(undefined, "0/5"), "0/5");
    assert.equal(laterLsn("0/5", undefined), "0/5");
    assert.equal(laterLsn(undefined, undefined), undefined);
  });
});

describe("timelineOfWalFile", () => {
  it("reads the first eight hex digits", () => {
    assert.equal(timelineOfWalFile("000000010000000000000003"), 1);
    assert.equal(timelineOfWalFile("0000000A0000000000000003"), 10);
  });

  it("refuses anything else", () => {
    assert.throws(() => timelineOfWalFile("00000001"), InvalidError);
  });
});
