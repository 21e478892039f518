/** `holdfast server`: run the control plane in the foreground or background, stop it, report on it. */
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { closeSync, mkdirSync, openSync, readFileSync } from "node:fs";
import { DEFAULT_API_HOST, DEFAULT_API_PORT, homePaths } from "../config/index.ts";
import { processExists } from "../util/index.ts";
import { CliError, UsageError, boolFlag, parseFlags, stringFlag } from "./args.ts";
import type { FlagValues } from "./args.ts";
import { ApiClient } from "./client.ts";
import { homeOf, readServerInfo, trustedCa } from "./context.ts";
import type { CliContext, ServerInfo } from "./context.ts";
import { formatAge, humanDuration } from "./output.ts";
import { sleep } from "./sleep.ts";

export const SERVER_HELP = `Run the Holdfast control plane (API server, controllers, database supervisor).

Usage:
  holdfast server [--home DIR] [--listen HOST:PORT] [--allow-remote] [--log-level LEVEL]
                  [--node-name NAME] [--advertise ADDRESS] [--external-address IP]
                  [--node-labels K=V,...]
                  [--disable-detections] [--disable-metrics]
                                                                           run in the foreground
  holdfast server --detach [same flags]                                    run in the background
  holdfast server stop [--home DIR]                                        stop a background server
  holdfast server status [--home DIR]                                      exit 0 when running, 1 when not

The home must be initialised first (holdfast init). The API is served over HTTPS only, with the
certificate made by init; clients trust <home>/tls/ca.crt. Databases keep running when the server
stops; the next server re-adopts them.

Examples:
  holdfast server --detach
  holdfast server --listen 127.0.0.1:8080 --log-level debug
  holdfast server status

Options:
      --home DIR          Holdfast home (default: HOLDFAST_HOME or ~/.holdfast)
      --listen HOST:PORT  Address to serve on (default: ${DEFAULT_API_HOST}:${DEFAULT_API_PORT})
      --allow-remote      Allow a --listen address other than loopback (read docs/security.md first)
      --log-level LEVEL   trace, debug, info (default), warn, error
      --node-name NAME    This machine's node (default: the name init recorded, else the host name);
                          its node agent runs the instances bound to it (holdfast get nodes)
      --advertise ADDRESS The address other nodes and clients reach this one at (default: the one
                          init recorded, else the --listen host)
      --external-address IP  This machine's non-loopback address that clients outside it reach: the
                          endpoints an Expose opens listen there, TLS only (absent: none is served here)
      --node-labels K=V,...  Labels of this machine's node, for schedulingPolicy.nodeSelector and
                          topologySpreadConstraints (e.g. zone=a,disk=ssd); replaces the labels it had
                          (an empty value removes them); absent, they are kept. kubernetes.io/hostname
                          is always the node name
      --disable-detections  Do not run the security detection rules over the audit log (they run by
                          default; <home>/detections.yaml sets their thresholds, or enabled: false)
      --disable-metrics   Keep no Prometheus metrics: /metrics answers 404 and nothing on the request
                          path counts (scrape targets and rule files are still served)
  -d, --detach            Start in the background, logging to <home>/logs/server.log
`;

const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 60_000;

/** Parse `HOST:PORT`, `:PORT`, `PORT` or `[::1]:PORT`. */
export function parseListen(raw: string | undefined): { host: string; port: number } {
  if (raw === undefined) return { host: DEFAULT_API_HOST, port: DEFAULT_API_PORT };
  const colon = raw.lastIndexOf(":");
  const hostPart = colon === -1 ? "" : raw.slice(0, colon).replace(/^\[(.*)\]$/, "$1");
  const portPart = colon === -1 ? raw : raw.slice(colon + 1);
  const port = Number(portPart);
  if (!/^[0-9]+$/.test(portPart) || port > 65535 || hostPart.includes("[")) {
    throw new UsageError(`invalid --listen "${raw}": use HOST:PORT, e.g. 127.0.0.1:${DEFAULT_API_PORT}`, "server");
  }
  return { host: hostPart === "" ? DEFAULT_API_HOST : hostPart, port };
}


/** The server recorded for this home, if it answers /healthz. */
async function answeringServer(home: string): Promise<ServerInfo | undefined> {
  const info = readServerInfo(home);
  if (info === undefined) return undefined;
  return (await localClient(home, info.url).healthy()) ? info : undefined;
}

function waitForSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      // A second signal while shutting down means "now".
      process.once("SIGINT", () => process.exit(130));
      process.once("SIGTERM", () => process.exit(143));
      resolve(signal);
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
}

async function runForeground(ctx: CliContext, values: FlagValues): Promise<number> {
  const home = homeOf(ctx, values);
  const { host, port } = parseListen(stringFlag(values, "listen"));
  const logLevel = stringFlag(values, "log-level");
  // Loaded on demand: other commands should not pay for starting the store and controllers' modules.
  const { runServer } = await import("../app/index.ts");
  const allowRemote = boolFlag(values, "allow-remote");
  const node = nodeFlags(values);
  const metrics = !boolFlag(values, "disable-metrics");
  const server = await runServer({ home, host, port, allowRemote, metrics, ...node, ...detectionsFlag(values), ...(logLevel === undefined ? {} : { logLevel }) });
  ctx.io.out(`holdfast server listening at ${server.url} (home ${home}); Ctrl-C to stop\n`);
  const signal = await waitForSignal();
  ctx.io.err(`received ${signal}, stopping; databases keep running\n`);
  await server.close();
  return 0;
}

/** The arguments the background server runs with: this script, `server`, and the resolved flags. */
export function detachedArgs(script: string, home: string, values: FlagValues): string[] {
  const args = [script, "server", "--home", home];
  const listen = stringFlag(values, "listen");
  const logLevel = stringFlag(values, "log-level");
  if (listen !== undefined) args.push("--listen", listen);
  if (logLevel !== undefined) args.push("--log-level", logLevel);
  if (boolFlag(values, "allow-remote")) args.push("--allow-remote");
  if (boolFlag(values, "disable-metrics")) args.push("--disable-metrics");
  const { nodeName, advertise } = nodeFlags(values);
  if (nodeName !== undefined) args.push("--node-name", nodeName);
  if (advertise !== undefined) args.push("--advertise", advertise);
  const external = stringFlag(values, "external-address");
  if (external !== undefined) args.push("--external-address", external);
  const labels = stringFlag(values, "node-labels");
  if (labels !== undefined) args.push("--node-labels", labels);
  if (boolFlag(values, "disable-detections")) args.push("--disable-detections");
  return args;
}

function spawnDetached(home: string, values: FlagValues): ChildProcess {
  const paths = homePaths(home);
  mkdirSync(paths.logsDir, { recursive: true, mode: 0o700 });
  const log = openSync(paths.serverLog, "a", 0o600);
  try {
    const script = process.argv[1];
    if (script === undefined) throw new CliError("cannot tell which script to run in the background");
    const child = spawn(process.execPath, [...process.execArgv, ...detachedArgs(script, home, values)], {
      detached: true,
      stdio: ["ignore", log, log],
      env: process.env,
    });
    child.unref();
    return child;
  } finally {
    closeSync(log);
  }
}

function logTail(path: string, lines = 15): string {
  try {
    return readFileSync(path, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

/** Poll until the child's server.json URL answers /healthz; reports the reason when it does not. */
async function waitUntilAnswering(ctx: CliContext, home: string, child: ChildProcess): Promise<ServerInfo> {
  const started = Date.now();
  let exited: string | undefined;
  child.once("exit", (code, signal) => (exited = signal === null ? `exit code ${code ?? "?"}` : `signal ${signal}`));
  let lastReport = 0;
  while (Date.now() - started < START_TIMEOUT_MS) {
    const info = await answeringServer(home);
    if (info !== undefined && info.pid === child.pid) return info;
    if (exited !== undefined) {
      throw new CliError(`the server exited during start-up (${exited}). Last lines of ${homePaths(home).serverLog}:\n${logTail(homePaths(home).serverLog)}`);
    }
    if (Date.now() - lastReport >= 3000) {
      ctx.io.err(`waiting for the server (pid ${child.pid ?? "?"}) to answer... ${humanDuration(Date.now() - started)}\n`);
      lastReport = Date.now();
    }
    await sleep(250);
  }
  child.kill("SIGTERM");
  throw new CliError(`the server did not answer within ${START_TIMEOUT_MS / 1000}s and was stopped. Last lines of ${homePaths(home).serverLog}:\n${logTail(homePaths(home).serverLog)}`);
}

async function runDetach(ctx: CliContext, values: FlagValues): Promise<number> {
  const home = homeOf(ctx, values);
  parseListen(stringFlag(values, "listen"));
  const running = await answeringServer(home);
  if (running !== undefined) {
    ctx.io.out(`holdfast server is already running at ${running.url} (pid ${running.pid}) for ${home}\n`);
    return 0;
  }
  const child = spawnDetached(home, values);
  const info = await waitUntilAnswering(ctx, home, child);
  ctx.io.out(`holdfast server running at ${info.url} (pid ${info.pid})\nlogs: ${homePaths(home).serverLog}\nstop it with: holdfast server stop\n`);
  return 0;
}

async function runStop(ctx: CliContext, values: FlagValues): Promise<number> {
  const home = homeOf(ctx, values);
  const info = readServerInfo(home);
  if (info === undefined || !processExists(info.pid)) {
    ctx.io.out(`no holdfast server is running for ${home}\n`);
    return 0;
  }
  if (!(await localClient(home, info.url).healthy())) {
    throw new CliError(`pid ${info.pid} (from ${homePaths(home).serverInfo}) does not answer at ${info.url}; it may still be starting, or not be a holdfast server. Check it with "ps -p ${info.pid}" before stopping it with "kill ${info.pid}"`);
  }
  process.kill(info.pid, "SIGTERM");
  const started = Date.now();
  while (processExists(info.pid)) {
    if (Date.now() - started > STOP_TIMEOUT_MS) throw new CliError(`pid ${info.pid} is still running after ${STOP_TIMEOUT_MS / 1000}s; see ${homePaths(home).serverLog}`);
    await sleep(200);
  }
  ctx.io.out(`holdfast server (pid ${info.pid}) stopped; databases keep running\n`);
  return 0;
}

async function runStatus(ctx: CliContext, values: FlagValues): Promise<number> {
  const home = homeOf(ctx, values);
  const info = await answeringServer(home);
  if (info === undefined) {
    ctx.io.out(`holdfast server is not running for ${home}; start it with: holdfast server --detach\n`);
    return 1;
  }
  const since = info.startedAt === undefined ? "" : `, up ${formatAge(info.startedAt, ctx.now())}`;
  ctx.io.out(`holdfast server is running at ${info.url} (pid ${info.pid}${since})\nhome: ${home}\nlogs: ${homePaths(home).serverLog}\n`);
  return 0;
}

const SERVER_FLAGS = {
  listen: { type: "string" },
  "log-level": { type: "string" },
  detach: { type: "boolean", short: "d" },
  "allow-remote": { type: "boolean" },
  "node-name": { type: "string" },
  advertise: { type: "string" },
  "external-address": { type: "string" },
  "node-labels": { type: "string" },
  "disable-detections": { type: "boolean" },
  "disable-metrics": { type: "boolean" },
} as const;

/** `--node-name`, `--advertise`, `--external-address` and `--node-labels`, when given (runServer checks them and fills in the defaults). */
function nodeFlags(values: FlagValues): { nodeName?: string; advertise?: string; externalAddress?: string; nodeLabels?: string } {
  const nodeName = stringFlag(values, "node-name");
  const advertise = stringFlag(values, "advertise");
  const externalAddress = stringFlag(values, "external-address");
  const nodeLabels = stringFlag(values, "node-labels");
  return {
    ...(nodeName === undefined ? {} : { nodeName }),
    ...(advertise === undefined ? {} : { advertise }),
    ...(externalAddress === undefined ? {} : { externalAddress }),
    ...(nodeLabels === undefined ? {} : { nodeLabels }),
  };
}

/** `--disable-detections`, when given (it wins over `enabled` in <home>/detections.yaml). */
export function detectionsFlag(values: FlagValues): { detections?: boolean } {
  return boolFlag(values, "disable-detections") ? { detections: false } : {};
}

/** Run `holdfast server [stop|status]`. */
export async function runServerCommand(ctx: CliContext, argv: readonly string[]): Promise<number> {
  const args = parseFlags(argv, SERVER_FLAGS, "server");
  if (boolFlag(args.values, "help")) {
    ctx.io.out(SERVER_HELP);
    return 0;
  }
  const [action, extra] = args.positionals;
  if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"`, "server");
  if (action === "stop") return runStop(ctx, args.values);
  if (action === "status") return runStatus(ctx, args.values);
  if (action !== undefined) throw new UsageError(`unknown server action "${action}": use stop or status, or no action to run the server`, "server");
  return boolFlag(args.values, "detach") ? runDetach(ctx, args.values) : runForeground(ctx, args.values);
}

/** A client for this home's own server, trusting the home's CA. */
function localClient(home: string, url: string): ApiClient {
  const ca = trustedCa(home);
  return new ApiClient(url, ca === undefined ? {} : { ca });
}
