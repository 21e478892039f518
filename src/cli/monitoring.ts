/** `holdfast monitoring`: a Prometheus configuration for this control plane, and its alert rules as a rule file. */
import { resolve } from "node:path";
import { isPrometheusDuration } from "../api/index.ts";
import { prometheusConfig } from "../monitoring/index.ts";
import { UsageError, stringFlag, type ParsedArgs } from "./args.ts";
import { clientOf, homeOf, serverUrlOf, trustedCaFile } from "./context.ts";
import type { CliContext } from "./context.ts";
import { runGroup, type CommandGroup } from "./subcommands.ts";

export const MONITORING_HELP = `Monitor Holdfast with Prometheus.

Usage:
  holdfast monitoring prometheus-config --token-file FILE [--ca-file FILE] [--rule-file FILE]
                                        [--scrape-interval 15s] [--evaluation-interval 15s]
  holdfast monitoring rules

prometheus-config prints a complete Prometheus configuration: the API servers (HTTPS, verified
with Holdfast's CA, authenticated with the API token in FILE) and every database exporter,
discovered through the server's /monitoring/targets. The token's user needs the monitoring
role (holdfast apply a ClusterRoleBinding to ClusterRole monitoring; see docs/operations.md).
rules prints the PrometheusRule objects as one Prometheus rule file.

Examples:
  holdfast token create --name prometheus --expires 90d --user prometheus   (save the token to a 0600 file)
  holdfast monitoring prometheus-config --token-file /etc/prometheus/holdfast.token \\
      --rule-file /etc/prometheus/holdfast-rules.yml > /etc/prometheus/prometheus.yml
  holdfast monitoring rules > /etc/prometheus/holdfast-rules.yml

Run "holdfast monitoring SUBCOMMAND --help" for the flags of each.
`;

const CONFIG_HELP = `Print a Prometheus configuration that scrapes this control plane and its database exporters.

Usage:
  holdfast monitoring prometheus-config --token-file FILE [--ca-file FILE] [--rule-file FILE]...

Options:
      --token-file FILE          File Prometheus reads the API token from (the token of a user with the
                                 monitoring role; the file is read by Prometheus, never by this command)
      --ca-file FILE             Holdfast's CA certificate (default: the one this CLI trusts)
      --rule-file FILE           A rule file to load (repeatable), e.g. what holdfast monitoring rules printed
      --scrape-interval D        How often targets are scraped and rediscovered (default 15s)
      --evaluation-interval D    How often rules are evaluated (default 15s)
`;

const RULES_HELP = `Print every PrometheusRule object as one Prometheus rule file (promtool check rules accepts it).

Needs the monitoring role (or cluster-admin).

Usage:
  holdfast monitoring rules
`;

function durationFlag(values: ParsedArgs["values"], name: string): string {
  const value = stringFlag(values, name) ?? "15s";
  if (!isPrometheusDuration(value)) throw new UsageError(`--${name} ${value} is not a Prometheus duration such as 15s or 1m`, "monitoring prometheus-config");
  return value;
}

function runPrometheusConfig(ctx: CliContext, args: ParsedArgs): Promise<number> {
  const tokenFile = stringFlag(args.values, "token-file");
  if (tokenFile === undefined) throw new UsageError("--token-file is required: the file Prometheus reads the monitoring API token from", "monitoring prometheus-config");
  const home = homeOf(ctx, args.values);
  const raw = args.values["rule-file"];
  const ruleFiles = Array.isArray(raw) ? raw.filter((file): file is string => typeof file === "string") : [];
  const text = prometheusConfig({
    server: serverUrlOf(ctx, args.values),
    tokenFile: resolve(tokenFile),
    caFile: resolve(stringFlag(args.values, "ca-file") ?? trustedCaFile(home)),
    ruleFiles: ruleFiles.map((file) => resolve(file)),
    scrapeInterval: durationFlag(args.values, "scrape-interval"),
    evaluationInterval: durationFlag(args.values, "evaluation-interval"),
  });
  ctx.io.out(text);
  return Promise.resolve(0);
}

async function runRules(ctx: CliContext, args: ParsedArgs): Promise<number> {
  ctx.io.out(await clientOf(ctx, args.values).getText("/monitoring/rules"));
  return 0;
}

const MONITORING: CommandGroup = {
  name: "monitoring",
  help: MONITORING_HELP,
  subcommands: {
    "prometheus-config": {
      help: CONFIG_HELP,
      flags: {
        "token-file": { type: "string" },
        "ca-file": { type: "string" },
        "rule-file": { type: "string", multiple: true },
        "scrape-interval": { type: "string" },
        "evaluation-interval": { type: "string" },
      },
      run: runPrometheusConfig,
    },
    rules: { help: RULES_HELP, flags: {}, run: runRules },
  },
};

/** `holdfast monitoring ...`. */
export function runMonitoring(ctx: CliContext, argv: readonly string[]): Promise<number> {
  return runGroup(ctx, argv, MONITORING);
}
