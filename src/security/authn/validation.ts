/** Input checks for user and token administration; each failure names its field and says what to use instead. */
import { InvalidError } from "../../errors/index.ts";

const USERNAME = /^[a-z0-9]([a-z0-9._@-]{0,62}[a-z0-9])?$/;
const GROUP = /^[A-Za-z0-9][A-Za-z0-9:._@/-]{0,252}$/;
// Printable, no control characters: token names end up in tables and audit records.
const TOKEN_NAME = /^[^\p{Cc}]{1,100}$/u;
const SOURCE_MAX_LENGTH = 256;

/** The form usernames are stored and looked up in: names are case-insensitive. */
export function normalizeUsername(username: string): string {
  return username.trim().toLowerCase();
}

/** Throw unless `username` (already normalised) is a valid new username. */
export function checkUsername(username: string): void {
  if (!USERNAME.test(username)) {
    invalid("username", "use 1-64 lower-case letters, digits, '.', '_', '@' or '-', starting and ending with a letter or digit");
  }
}

/** The groups, checked and without duplicates. */
export function checkGroups(groups: readonly string[]): string[] {
  groups.forEach((group, index) => {
    if (!GROUP.test(group)) invalid(`groups[${index}]`, "use 1-253 letters, digits, ':', '.', '_', '@', '/' or '-', starting with a letter or digit");
  });
  return [...new Set(groups)];
}

/** Throw unless `name` is a usable token name. */
export function checkTokenName(name: string): void {
  if (!TOKEN_NAME.test(name)) invalid("name", "give the token a name of 1-100 printable characters, e.g. what uses it");
}

/** Throw unless `seconds` is a whole number between 1 and `max`. */
export function checkTokenLifetime(seconds: number, max: number): void {
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > max) {
    invalid("expiresInSeconds", `set a lifetime in whole seconds between 1 and ${max} (${Math.floor(max / 86400)} days)`);
  }
}

/** Throw unless `source` (the client address) is present. */
export function checkSource(source: string): void {
  if (source.length === 0 || source.length > SOURCE_MAX_LENGTH) invalid("source", "pass the client's address");
}

function invalid(field: string, message: string): never {
  throw new InvalidError(`${field} is invalid: ${message}`, { causes: [{ field, message, reason: "FieldValueInvalid" }] });
}
