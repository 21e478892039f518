/**
 * The password policy, after NIST SP 800-63B and OWASP: length 12–128 Unicode code points, not a known common
 * password, and no composition rules (they push people to predictable patterns without adding strength).
 */
import { randomInt } from "node:crypto";
import { dictionary } from "@zxcvbn-ts/language-common";
import { InvalidError } from "../../errors/index.ts";

/** Shortest password accepted, in Unicode code points. */
export const PASSWORD_MIN_LENGTH = 12;
/** Longest password accepted: long enough for any passphrase, short enough to bound hashing work. */
export const PASSWORD_MAX_LENGTH = 128;
const GENERATED_LENGTH = 20;
// No look-alikes (0/O, 1/l/I), so a generated password can be read aloud or copied by hand.
const GENERATED_ALPHABET = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";

/** Passwords that appear in breach corpora, lower-cased; build once per service and reuse. */
export function loadCommonPasswords(): ReadonlySet<string> {
  return new Set(dictionary["passwords-common"].map((word) => word.toLowerCase()));
}

/** The form a password is hashed and measured in: NFC, so the same text typed on two keyboards matches. */
export function normalizePassword(password: string): string {
  return password.normalize("NFC");
}

/** Throw an InvalidError with a cause on `password` saying what to do when `password` breaks the policy. */
export function checkPasswordPolicy(password: string, common: ReadonlySet<string>): void {
  const message = policyViolation(normalizePassword(password), common);
  if (message !== undefined) {
    throw new InvalidError("the password does not meet the password policy", { causes: [{ field: "password", message, reason: "FieldValueInvalid" }] });
  }
}

function policyViolation(password: string, common: ReadonlySet<string>): string | undefined {
  const length = codePointLength(password);
  if (length < PASSWORD_MIN_LENGTH) return `use at least ${PASSWORD_MIN_LENGTH} characters; a passphrase of several words is easiest to remember`;
  if (length > PASSWORD_MAX_LENGTH) return `use at most ${PASSWORD_MAX_LENGTH} characters`;
  if (common.has(password.toLowerCase())) return "this password is in a list of commonly used passwords; choose one nobody else would";
  return undefined;
}

/** Length in Unicode code points, the unit the policy counts in (an emoji or a CJK character is one). */
export function codePointLength(text: string): number {
  let length = 0;
  for (const _ of text) length++;
  return length;
}

/** A random 20-character password (about 116 bits) for users created without one. */
export function generatePassword(): string {
  let password = "";
  for (let i = 0; i < GENERATED_LENGTH; i++) password += GENERATED_ALPHABET.charAt(randomInt(GENERATED_ALPHABET.length));
  return password;
}
