/**
 * The lab's Holdfast nodes: host 1 is initialised on the lab's etcd (`holdfast init --store`), every other host joins
 * it with a single-use join command from host 1 (`holdfast node join-command`, then `holdfast init --join`), and each
 * server runs inside its host's namespace on the host's address.
 */
import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { z } from "zod";
import { UnavailableError } from "../errors/index.ts";
import { labEnvironment, runCommand, type CommandOptions, type CommandResult } from "./commands.ts";
import { inNamespace } from "./network.ts";
import { labProcess, type LabProcess } from "./processes.ts";
import { API_PORT, type LabEtcdPlan, type LabHostPlan } from "./plan.ts";

/** The CLI as users run it. */
export const HOLDFAST = resolve(import.meta.dirname, "..", "..", "bin", "holdfast");

/** What `holdfast init -o json` prints about the first administrator. */
export const initOutputSchema = z.object({ username: z.string(), password: z.string(), totpSecret: z.string(), recoveryCodes: z.array(z.string()) });
export type InitOutput = z.infer<typeof initOutputSchema>;

/** `holdfast init --join URL --token T --ca-cert-hash H`, as `node join-command` prints it. */
const JOIN_COMMAND = /^holdfast init --join (https:\/\/\S+) --token (\S+) --ca-cert-hash (sha256:[0-9a-f]{64})$/;

/** Run the CLI inside `host`'s namespace on `home` (default: the host's own home). */
export function holdfastIn(host: Pick<LabHostPlan, "namespace" | "home">, args: readonly string[], options: CommandOptions & { home?: string } = {}): Promise<CommandResult> {
  const env = labEnvironment({ HOLDFAST_HOME: options.home ?? host.home });
  return runCommand(inNamespace(host.namespace, [HOLDFAST, ...args]), { ...options, env });
}

async function mustHoldfast(host: LabHostPlan, args: readonly string[], options: CommandOptions & { home?: string } = {}): Promise<string> {
  const result = await holdfastIn(host, args, options);
  if (result.code !== 0) throw new UnavailableError(`holdfast ${args.slice(0, 2).join(" ")} on ${host.name} exited with code ${result.code}: ${result.stderr.trim().slice(-2000)}`);
  return result.stdout;
}

/** The first node: a home on the lab's etcd, its serving certificate naming the host's address, and the first administrator. */
export async function initFirstNode(host: LabHostPlan, etcd: readonly LabEtcdPlan[], admin: string): Promise<InitOutput> {
  const store = `etcd://${etcd.map((member) => new URL(member.clientUrl).host).join(",")}`;
  const stdout = await mustHoldfast(host, ["init", "--home", host.home, "--store", store, "--node-name", host.name, "--advertise", host.address, "--admin", admin, "-o", "json"]);
  return initOutputSchema.parse(JSON.parse(stdout));
}

/** Start the host's server in the background inside its namespace (`server --detach` waits until it answers). */
export async function startServer(host: LabHostPlan): Promise<LabProcess> {
  await mustHoldfast(host, ["server", "--detach", "--home", host.home, "--listen", `${host.address}:${API_PORT}`, "--allow-remote", "--node-name", host.name, "--advertise", host.address], { timeoutMs: 120_000 });
  const info = z.object({ pid: z.number().int().positive() }).parse(JSON.parse(await readFile(join(host.home, "server.json"), "utf8")));
  return labProcess("server", host.name, host.namespace, info.pid);
}

/**
 * Join `host` to the cluster of `first`, with a fresh single-use token minted through `first` by the CLI logged in at
 * `cliHome`; the token reaches `init --join` on stdin (`--token-stdin`), never on a command line.
 */
export async function joinNode(first: LabHostPlan, host: LabHostPlan, cliHome: string): Promise<void> {
  const answer = z.object({ command: z.string() }).parse(JSON.parse(await mustHoldfast(first, ["node", "join-command", "--ttl", "10m", "-o", "json", "--server", first.api], { home: cliHome })));
  const match = JOIN_COMMAND.exec(answer.command.trim());
  if (match === null) throw new UnavailableError(`holdfast node join-command printed a command the lab does not understand: ${answer.command.split(" --token")[0] ?? ""} …`);
  const [, url = "", token = "", hash = ""] = match;
  const args = ["init", "--home", host.home, "--join", url, "--token-stdin", "--ca-cert-hash", hash, "--node-name", host.name, "--advertise", host.address, "-o", "json"];
  await mustHoldfast(host, args, { input: `${token}\n` });
}

/** Is the host's API answering /healthz, asked from inside its own namespace? */
export async function apiAnswers(host: LabHostPlan): Promise<boolean> {
  const result = await holdfastIn(host, ["server", "status", "--home", host.home], { timeoutMs: 20_000 });
  return result.code === 0;
}

/** Names of the Ready nodes, as the API of `via` lists them to the CLI logged in at `cliHome`. */
export async function readyNodes(via: LabHostPlan, cliHome: string): Promise<string[]> {
  const listed = await holdfastIn(via, ["get", "nodes", "-o", "json", "--server", via.api], { home: cliHome, timeoutMs: 30_000 });
  if (listed.code !== 0) return [];
  const nodes = z
    .object({ items: z.array(z.object({ metadata: z.object({ name: z.string() }), status: z.object({ conditions: z.array(z.object({ type: z.string(), status: z.string() })).optional() }).optional() })) })
    .parse(JSON.parse(listed.stdout));
  return nodes.items.filter((node) => node.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") === true).map((node) => node.metadata.name);
}

