/** Checks shared by the engines' configuration writers. */

/** Does `value` hold a control character (newline, NUL, ...) that could start a new config line? */
export function hasControlCharacters(value: string): boolean {
  return /\p{Cc}/u.test(value);
}
