/** `holdfast node`: control-plane nodes — the command another machine joins the cluster with. */
import { z } from "zod";
import { UsageError, expectPositionals, stringFlag } from "./args.ts";
import type { ParsedArgs } from "./args.ts";
import { clientOf } from "./context.ts";
import type { CliContext } from "./context.ts";
import { parseSpan } from "./durations.ts";
import { toJson } from "./output.ts";
import { parseAnswer } from "./security-api.ts";
import { OUTPUT_FLAG, outputOf, runGroup, type CommandGroup } from "./subcommands.ts";

const JOIN_TOKENS_PATH = "/apis/holdfast.io/v1alpha1/jointokens";
const joinCommandSchema = z.object({ command: z.string(), expiresAt: z.string() });

export const NODE_HELP = `Control-plane nodes of a cluster on etcd.

Usage:
  holdfast node join-command [--ttl 1h] [-o json]

List the nodes with: holdfast get nodes

Run "holdfast node SUBCOMMAND --help" for the flags of each.
`;

const JOIN_COMMAND_HELP = `Print the command that makes another machine a control-plane node of this cluster
(kubeadm's model). The token in it works once and expires (default after 1 hour); only a hash
of it is kept. The new node checks this node's CA against the hash in the command before it
sends the token, and receives its own serving certificate, the store settings and the
key-encryption key over that connection.

Needs create on jointokens (cluster-admin). Run it against any node (each holds the CA key
that signs the new node's certificate). Every use is audited.

Usage:
  holdfast node join-command [--ttl DURATION] [-o json]

Examples:
  holdfast node join-command
  holdfast node join-command --ttl 15m

Options:
      --ttl DURATION   How long the token works: 1m to 7d (default 1h)
  -o, --output json    Print {command, expiresAt} as JSON
`;

async function runJoinCommand(ctx: CliContext, args: ParsedArgs): Promise<number> {
  expectPositionals(args, [], "node join-command");
  const format = outputOf(args.values, ["json"], "node join-command");
  const ttl = stringFlag(args.values, "ttl") ?? "1h";
  const ttlMs = parseSpan(ttl);
  if (ttlMs === undefined || ttlMs < 60_000 || ttlMs > 7 * 86_400_000) throw new UsageError(`invalid --ttl "${ttl}": use 1m to 7d, such as 15m, 1h or 2d`, "node join-command");
  const ttlSeconds = Math.floor(ttlMs / 1000);
  const answer = parseAnswer(joinCommandSchema, await clientOf(ctx, args.values).postJson(JOIN_TOKENS_PATH, { ttlSeconds }), "node join-command");
  if (format === "json") {
    ctx.io.out(toJson(answer));
    return 0;
  }
  ctx.io.out(`${answer.command}\n`);
  ctx.io.err(`The token works once, until ${answer.expiresAt}. Run the command on the new machine, then start it with holdfast server --advertise ADDRESS.\n`);
  return 0;
}

const GROUP: CommandGroup = {
  name: "node",
  help: NODE_HELP,
  subcommands: {
    "join-command": { help: JOIN_COMMAND_HELP, flags: { ttl: { type: "string" }, ...OUTPUT_FLAG }, run: runJoinCommand },
  },
};

/** Run `holdfast node SUBCOMMAND`. */
export function runNode(ctx: CliContext, argv: readonly string[]): Promise<number> {
  return runGroup(ctx, argv, GROUP);
}
