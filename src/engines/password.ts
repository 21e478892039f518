/** Generated passwords for system accounts, following KubeBlocks' policy. */
import { randomInt } from "node:crypto";
import { InvalidError } from "../errors/index.ts";

const UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const LOWER = "abcdefghijklmnopqrstuvwxyz";
const DIGITS = "0123456789";
const ALL = UPPER + LOWER + DIGITS;

/** The shortest password a user may give (KubeBlocks' generated ones have 16 characters). */
export const MIN_USER_PASSWORD_LENGTH = 12;

/** One character of `alphabet`, chosen uniformly (randomInt rejects instead of using a biased modulo). */
function pick(alphabet: string): string {
  return alphabet.charAt(randomInt(alphabet.length));
}

/** Fisher–Yates shuffle in place, so the guaranteed characters do not sit at fixed positions. */
function shuffle(characters: string[]): string[] {
  for (let i = characters.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [characters[i], characters[j]] = [characters[j] ?? "", characters[i] ?? ""];
  }
  return characters;
}

/**
 * A random password of upper case, lower case and digits with at least one of each class
 * (KubeBlocks' default policy: 16 characters). Safe in URIs, pgpass files and config files as is.
 */
export function generatePassword(length = 16): string {
  if (!Number.isInteger(length) || length < 3 || length > 1024) {
    throw new InvalidError(`password length ${length} is not allowed: use an integer from 3 to 1024`, {
      causes: [{ field: "length", message: "must be an integer from 3 to 1024" }],
    });
  }
  const characters = [pick(UPPER), pick(LOWER), pick(DIGITS)];
  while (characters.length < length) characters.push(pick(ALL));
  return shuffle(characters).join("");
}

/** The symbols a generated password may hold (KubeBlocks' set): printable, never a quote, backslash or space. */
const SYMBOLS = "!@#&*";
const LETTERS = { LowerCases: LOWER, UpperCases: UPPER, MixedCases: UPPER + LOWER } as const;

/** KubeBlocks' PasswordConfig: the length, how many digits and symbols exactly, and the letters of the rest. */
export interface PasswordPolicy {
  length?: number | undefined;
  numDigits?: number | undefined;
  numSymbols?: number | undefined;
  letterCase?: keyof typeof LETTERS | undefined;
}

/** Why `policy` cannot make a password (digits and symbols leave no room for a letter), or undefined. */
export function passwordPolicyConflict(policy: PasswordPolicy): string | undefined {
  const length = policy.length ?? 16;
  const fixed = (policy.numDigits ?? 0) + (policy.numSymbols ?? 0);
  return fixed < length ? undefined : `numDigits + numSymbols (${fixed}) must be less than length (${length}): a password keeps at least one letter`;
}

/** The policy's length, or InvalidError when the policy cannot make a password. */
function checkedLength(policy: PasswordPolicy): number {
  const length = policy.length ?? 16;
  const problem = passwordPolicyConflict(policy) ?? (Number.isInteger(length) && length >= MIN_USER_PASSWORD_LENGTH && length <= 128 ? undefined : `length must be an integer from ${MIN_USER_PASSWORD_LENGTH} to 128`);
  if (problem !== undefined) throw new InvalidError(`password policy not allowed: ${problem}`, { causes: [{ field: "passwordConfig", message: problem }] });
  return length;
}

/**
 * A random password under `policy`: exactly numDigits digits and numSymbols symbols, letters of letterCase (mixed by
 * default, then with at least one of each case) for the rest, in random order.
 */
export function generatePasswordWith(policy: PasswordPolicy): string {
  const length = checkedLength(policy);
  const characters: string[] = [];
  for (let i = 0; i < (policy.numDigits ?? 0); i++) characters.push(pick(DIGITS));
  for (let i = 0; i < (policy.numSymbols ?? 0); i++) characters.push(pick(SYMBOLS));
  const letterCase = policy.letterCase ?? "MixedCases";
  const letters = length - characters.length;
  if (letterCase === "MixedCases" && letters >= 2) characters.push(pick(UPPER), pick(LOWER));
  while (characters.length < length) characters.push(pick(LETTERS[letterCase]));
  return shuffle(characters).join("");
}


/**
 * Why a password a user gives does not meet the password policy, or undefined when it does (pure): at least 12 and at
 * most 128 printable ASCII characters without spaces (safe in URIs once encoded, pgpass files and config files), with an
 * upper-case letter, a lower-case letter and a digit, as generated ones have. The message never repeats the password.
 */
export function passwordPolicyProblem(password: string): string | undefined {
  if (password.length < MIN_USER_PASSWORD_LENGTH || password.length > 128) return `must be ${MIN_USER_PASSWORD_LENGTH} to 128 characters long`;
  if (!/^[!-~]+$/.test(password)) return "must be printable ASCII characters without spaces";
  if (!/[A-Z]/.test(password) || !/[a-z]/.test(password) || !/[0-9]/.test(password)) return "must contain an upper-case letter, a lower-case letter and a digit";
  return undefined;
}
