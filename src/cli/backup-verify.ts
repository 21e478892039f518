/** `holdfast backup verify`: the server re-reads every chunk of a backup; exit 1 naming each bad chunk. */
import { expectPositionals, namespaceOf } from "./args.ts";
import type { ParsedArgs } from "./args.ts";
import { verificationText } from "./backup-views.ts";
import { clientOf } from "./context.ts";
import type { CliContext } from "./context.ts";
import { pick } from "./fields.ts";
import { toJson } from "./output.ts";
import { outputOf } from "./subcommands.ts";

export const VERIFY_HELP = `Re-read a whole backup from its repository and check every byte: the manifest's authentication and
digest, and each chunk's size, SHA-256 and authentication tag. Exits 1 if anything is changed,
missing or out of place, naming the stream, chunk and object.

Usage:
  holdfast backup verify NAME [-n NAMESPACE] [-o json]

Example:
  holdfast backup verify pg-cluster-pg-basebackup -n demo
`;

/** The path of a backup's verify action. */
export function verifyPath(namespace: string, name: string): string {
  return `/apis/dataprotection.kubeblocks.io/v1alpha1/namespaces/${encodeURIComponent(namespace)}/backups/${encodeURIComponent(name)}/verify`;
}

/** Run `holdfast backup verify`. */
export async function runVerify(ctx: CliContext, args: ParsedArgs): Promise<number> {
  const [name = ""] = expectPositionals(args, ["NAME"], "backup verify");
  const format = outputOf(args.values, ["json"], "backup verify");
  const answer = await clientOf(ctx, args.values).postJson(verifyPath(namespaceOf(args.values), name), {});
  const report = pick(answer, "status");
  const { text, ok } = verificationText(name, report);
  if (format === "json") ctx.io.out(toJson(report));
  else if (ok) ctx.io.out(text);
  else ctx.io.err(text);
  return ok ? 0 : 1;
}
