/** `?fieldValidation=`: what a create, update or patch does with fields its kind does not have, as in Kubernetes. */
import { InputError } from "../errors/index.ts";

/** Strict refuses the write (400); Warn (the default) drops them and says so in `Warning` headers; Ignore drops them silently. */
export type FieldValidation = "Strict" | "Warn" | "Ignore";

const DIRECTIVES: readonly FieldValidation[] = ["Strict", "Warn", "Ignore"];

/** The directive of a write request's query; Warn when absent or empty. Throws InputError for any other value. */
export function fieldValidationOf(query: URLSearchParams): FieldValidation {
  const given = query.get("fieldValidation");
  if (given === null || given === "") return "Warn";
  const directive = DIRECTIVES.find((d) => d === given);
  if (directive === undefined) throw new InputError(`fieldValidation must be one of ${DIRECTIVES.join(", ")} (got ${JSON.stringify(given)})`);
  return directive;
}

/** The `Warning` header value for `warnings` (RFC 7234 code 299, as the Kubernetes API server writes them), or undefined for none. */
export function warningHeader(warnings: readonly string[]): string | undefined {
  if (warnings.length === 0) return undefined;
  return [...new Set(warnings)].map((text) => `299 - ${JSON.stringify(text.replace(/[\r\n]+/g, " "))}`).join(", ");
}
