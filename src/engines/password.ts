/** Generated passwords for system accounts, following KubeBlocks' policy. */
import { randomInt } from "node:crypto";
import { InvalidError } from "../errors/index.ts";

const UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const LOWER = "abcdefghijklmnopqrstuvwxyz";
const DIGITS = "0123456789";
const ALL = UPPER + LOWER + DIGITS;

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
