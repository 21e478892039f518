/** Grants of managed users (ADR 0046) checked against an engine's zod schema: one problem per issue, by path below `spec.grants`. */
import type { z } from "zod";
import type { GrantProblem } from "./types.ts";

/** `[1].privileges[0]` for issue path `["privileges", 0]` of grant 1 (pure). */
function pathOf(index: number, path: readonly PropertyKey[]): string {
  return `[${index}]${path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("")}`;
}

/** The problems of each grant against `schema` (pure). */
export function grantProblems(schema: z.ZodType, grants: readonly Record<string, unknown>[]): GrantProblem[] {
  return grants.flatMap((grant, index) => {
    const parsed = schema.safeParse(grant);
    return parsed.success ? [] : parsed.error.issues.map((issue) => ({ path: pathOf(index, issue.path), message: issue.message }));
  });
}
