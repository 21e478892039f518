import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { InvalidError } from "../../errors/index.ts";
import { checkPasswordPolicy, codePointLength, generatePassword, loadCommonPasswords } from "./password-policy.ts";

let common: ReadonlySet<string>;
before(() => {
  common = loadCommonPasswords();
});

function refusal(password: string): string | undefined {
  try {
    checkPasswordPolicy(password, common);
    return undefined;
  } catch (error) {
    assert.ok(error instanceof InvalidError);
    const [cause] = error.causes;
    assert.ok(cause !== undefined);
    assert.equal(cause.field, "password");
    assert.ok(!error.message.includes(password) && !cause.message.includes(password), "the password never appears in the error");
    return cause.message;
  }
}

describe("password policy", () => {
  it("needs at least 12 code points", () => {
    assert.match(refusal("tr0ub4dor&3") ?? "", /at least 12 characters/);
    assert.equal(refusal("tr0ub4dor&3x"), undefined);
  });

  it("counts Unicode code points, not UTF-16 units", () => {
    const emoji = "🦀";
    assert.equal(codePointLength(emoji.repeat(6)), 6);
    assert.match(refusal(emoji.repeat(6)) ?? "", /at least 12/, "6 emoji are 12 UTF-16 units but only 6 characters");
    assert.equal(refusal(emoji.repeat(12)), undefined);
  });

  it("allows at most 128 code points", () => {
    assert.equal(refusal("a quiet river ".repeat(10).slice(0, 128)), undefined);
    assert.match(refusal("a quiet river ".repeat(10).slice(0, 129)) ?? "", /at most 128/);
  });

  it("refuses common passwords whatever their case", () => {
    assert.ok(common.size > 40_000);
    assert.match(refusal("qwerty123456") ?? "", /commonly used/);
    assert.match(refusal("QWERTY123456") ?? "", /commonly used/);
    assert.match(refusal("1q2w3e4r5t6y") ?? "", /commonly used/);
  });

  it("has no composition rules", () => {
    assert.equal(refusal("lowercase words only here"), undefined);
    assert.equal(refusal("999988887777666"), undefined);
  });

  it("generates 20-character passwords the policy accepts", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const password = generatePassword();
      assert.equal(password.length, 20);
      assert.equal(refusal(password), undefined);
      seen.add(password);
    }
    assert.equal(seen.size, 20);
  });
});
