import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { generatePassword, generatePasswordWith, passwordPolicyConflict, passwordPolicyProblem } from "./password.ts";
import { InvalidError } from "../errors/index.ts";

describe("generatePassword", () => {
  it("makes 16 characters of upper, lower and digits by default, each class present", () => {
    for (let i = 0; i < 2000; i++) {
      const password = generatePassword();
      assert.match(password, /^[A-Za-z0-9]{16}$/);
      assert.match(password, /[A-Z]/);
      assert.match(password, /[a-z]/);
      assert.match(password, /[0-9]/);
    }
  });

  it("keeps every class even at the shortest length", () => {
    for (let i = 0; i < 500; i++) {
      const password = generatePassword(3);
      assert.equal(password.length, 3);
      assert.match(password, /[A-Z]/);
      assert.match(password, /[a-z]/);
      assert.match(password, /[0-9]/);
    }
  });

  it("honours a requested length", () => {
    assert.equal(generatePassword(32).length, 32);
  });

  it("does not repeat itself", () => {
    const seen = new Set(Array.from({ length: 1000 }, () => generatePassword()));
    assert.equal(seen.size, 1000);
  });

  it("uses the whole alphabet in every position (no fixed class slots)", () => {
    const firstIsDigit = Array.from({ length: 3000 }, () => generatePassword()).filter((p) => /^[0-9]/.test(p)).length;
    // A digit first about 3000 × (1/16 + 15/16 × 10/62) ≈ 640 times; never or always would mean a fixed layout.
    assert.ok(firstIsDigit > 300 && firstIsDigit < 1000, `digit first ${firstIsDigit} times out of 3000`);
  });

  it("refuses lengths that cannot hold every class", () => {
    assert.throws(() => generatePassword(2), InvalidError);
    assert.throws(() => generatePassword(2.5), InvalidError);
  });
});

describe("passwordPolicyProblem", () => {
  it("accepts generated passwords and refuses short, spaced or single-class ones without repeating them", () => {
    assert.equal(passwordPolicyProblem(generatePassword()), undefined);
    for (const bad of ["Short1a", "alllowercase123", "ALLUPPERCASE123", "NoDigitsHereAtAll", "With Space 123Ab", "Ünïcode123abcD"]) {
      const problem = passwordPolicyProblem(bad);
      assert.ok(problem !== undefined, bad);
      assert.ok(!problem.includes(bad));
    }
  });
});

describe("generatePasswordWith (KubeBlocks' passwordConfig)", () => {
  it("holds exactly numDigits digits and numSymbols symbols, letters of letterCase for the rest, at the length asked", () => {
    for (let i = 0; i < 200; i++) {
      const password = generatePasswordWith({ length: 20, numDigits: 4, numSymbols: 3, letterCase: "LowerCases" });
      assert.equal(password.length, 20);
      assert.equal(password.replace(/[^0-9]/g, "").length, 4);
      assert.equal(password.replace(/[^!@#&*]/g, "").length, 3);
      assert.match(password, /^[a-z0-9!@#&*]+$/);
    }
  });

  it("mixes both cases by default, and every password meets the policy for given passwords when it has a digit", () => {
    for (let i = 0; i < 200; i++) {
      const password = generatePasswordWith({ length: 12, numDigits: 1 });
      assert.match(password, /[A-Z]/);
      assert.match(password, /[a-z]/);
      assert.equal(passwordPolicyProblem(password), undefined);
    }
  });

  it("spreads the digits over the positions (not always first)", () => {
    const firsts = new Set(Array.from({ length: 200 }, () => /[0-9]/.test(generatePasswordWith({ length: 16, numDigits: 1 }).charAt(0))));
    assert.deepEqual([...firsts].sort(), [false, true]);
  });

  it("refuses a policy that leaves no letter, or fewer than 12 characters", () => {
    assert.match(passwordPolicyConflict({ length: 12, numDigits: 6, numSymbols: 6 }) ?? "", /must be less than length/);
    assert.throws(() => generatePasswordWith({ length: 12, numDigits: 12 }), /password policy not allowed/);
    assert.throws(() => generatePasswordWith({ length: 8 }), /from 12 to 128/);
  });
});
