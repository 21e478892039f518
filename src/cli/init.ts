/** `holdfast init`: a new home on the embedded store (the default), the first node of a cluster on etcd, or a joining node. */
import { readFileSync } from "node:fs";
import { UsageError, boolFlag, parseFlags, stringFlag } from "./args.ts";
import type { FlagValues } from "./args.ts";
import { readCliConfig, writeCliConfig } from "./cli-config.ts";
import { homeOf, type CliContext } from "./context.ts";
import { firstLineOfStdin } from "./prompt.ts";

export const INIT_HELP = `Initialise a Holdfast home: TLS certificates, keys, built-in roles and the first administrator.

Usage:
  holdfast init [--home DIR] [--admin NAME] [-o json]
  holdfast init --store etcd://H1:2379,H2:2379,H3:2379 [--etcd-ca F --etcd-cert F --etcd-key F]
                [--node-name N] [--advertise ADDR] [--home DIR] [--admin NAME] [-o json]
  holdfast init --join https://HOST:PORT (--token TOKEN | --token-stdin) --ca-cert-hash sha256:HEX
                [--node-name N] [--advertise ADDR] [--home DIR] [-o json]

Without --store the home uses the embedded store (one machine; nothing else to run).
With --store it is the first control-plane node of a cluster on etcd: users, keys and objects
live in etcd, and other nodes join it with the command "holdfast node join-command" prints.
With --join it becomes another node of that cluster: it checks the server's CA against
--ca-cert-hash before sending anything, and receives its own certificate and the store settings.

The administrator's password, TOTP secret (with a QR code) and recovery codes are shown once.
With -o json they are printed as {username, password, totpSecret, recoveryCodes, server, caFile}.
The server refuses to start on a home that is not initialised.

Examples:
  holdfast init
  holdfast init --home /srv/holdfast --admin alice -o json > admin.json   (keep admin.json 0600)
  holdfast init --store etcd://10.0.0.1:2379,10.0.0.2:2379,10.0.0.3:2379 --etcd-ca ca.crt \\
      --etcd-cert client.crt --etcd-key client.key --node-name cp1 --advertise 10.0.0.1
  holdfast init --join https://10.0.0.1:7420 --token abcdef.0123456789abcdef \\
      --ca-cert-hash sha256:1f0c... --node-name cp2 --advertise 10.0.0.2

Options:
      --store etcd://...   The etcd members (HOST:PORT, comma-separated) of a cluster's shared store
      --etcd-ca FILE       CA of the etcd members' certificates (https to etcd)
      --etcd-cert FILE     Client certificate for etcd (with --etcd-key)
      --etcd-key FILE      Its private key (copied into <home>/etcd, mode 0600)
      --node-name NAME     This node's name (default: the host name)
      --advertise ADDR     The IP address or DNS name other nodes and clients reach this node at;
                           it goes into the serving certificate (default: loopback only)
      --join URL           Join the cluster of the node at URL (from holdfast node join-command)
      --token TOKEN        The single-use join token (from the same command)
      --token-stdin        Read the token from the first line of standard input instead (keeps it out
                           of the process list and shell history)
      --ca-cert-hash HASH  sha256 of the cluster CA's public key (from the same command)
`;

const INIT_FLAGS = {
  admin: { type: "string" },
  output: { type: "string", short: "o" },
  store: { type: "string" },
  "etcd-ca": { type: "string" },
  "etcd-cert": { type: "string" },
  "etcd-key": { type: "string" },
  "node-name": { type: "string" },
  advertise: { type: "string" },
  join: { type: "string" },
  token: { type: "string" },
  "token-stdin": { type: "boolean" },
  "ca-cert-hash": { type: "string" },
} as const;

/** `holdfast init`. */
export async function runInit(ctx: CliContext, argv: readonly string[]): Promise<number> {
  const args = parseFlags(argv, INIT_FLAGS, "init");
  if (boolFlag(args.values, "help")) {
    ctx.io.out(INIT_HELP);
    return 0;
  }
  if (stringFlag(args.values, "join") !== undefined) return runJoin(ctx, args.values);
  const home = homeOf(ctx, args.values);
  const { initHome } = await import("../app/index.ts");
  const store = storeOption(args.values);
  const nodeName = stringFlag(args.values, "node-name");
  const advertise = stringFlag(args.values, "advertise");
  const result = await initHome({
    home,
    admin: stringFlag(args.values, "admin") ?? "admin",
    ...(store === undefined ? {} : { store }),
    ...(nodeName === undefined ? {} : { nodeName }),
    ...(advertise === undefined ? {} : { advertise }),
  });
  writeCliConfig(home, { ...readCliConfig(home), certificateAuthority: result.caFile });
  if (stringFlag(args.values, "output") === "json") {
    const { otpauthUri: _uri, ...shown } = result;
    ctx.io.out(`${JSON.stringify(shown, null, 2)}\n`);
    return 0;
  }
  const QRCode = await import("qrcode");
  const qr = await QRCode.toString(result.otpauthUri, { type: "terminal", small: true });
  ctx.io.out(
    `Initialised ${home}\n\nAdministrator (shown once; store it in a password manager):\n  username:  ${result.username}\n  password:  ${result.password}\n\n` +
      `Add this TOTP secret to an authenticator app (scan the code or type the secret):\n  secret:    ${result.totpSecret}\n  uri:       ${result.otpauthUri}\n${qr}\n` +
      `Recovery codes (each works once, instead of a TOTP code):\n  ${result.recoveryCodes.join("\n  ")}\n\n` +
      `Server: ${result.server} (CA: ${result.caFile})\nNext: holdfast server --detach && holdfast login --username ${result.username}\n`,
  );
  return 0;
}

/** `--store etcd://...` with its TLS files read, or undefined for the embedded store. */
function storeOption(values: FlagValues): { url: string; tls: { ca?: string; cert?: string; key?: string } } | undefined {
  const url = stringFlag(values, "store");
  const files = { ca: stringFlag(values, "etcd-ca"), cert: stringFlag(values, "etcd-cert"), key: stringFlag(values, "etcd-key") };
  if (url === undefined) {
    if (Object.values(files).some((file) => file !== undefined)) throw new UsageError("--etcd-ca, --etcd-cert and --etcd-key go with --store etcd://...", "init");
    return undefined;
  }
  const tls: { ca?: string; cert?: string; key?: string } = {};
  for (const [name, file] of Object.entries(files) as [keyof typeof files, string | undefined][]) {
    if (file === undefined) continue;
    try {
      tls[name] = readFileSync(file, "utf8");
    } catch (error) {
      throw new UsageError(`cannot read --etcd-${name} ${file}: ${error instanceof Error ? error.message : String(error)}`, "init");
    }
  }
  return { url, tls };
}

/** The join token: `--token`, or the first line of stdin with `--token-stdin` (one of them, not both). */
async function joinToken(values: FlagValues): Promise<string | undefined> {
  if (!boolFlag(values, "token-stdin")) return stringFlag(values, "token");
  if (stringFlag(values, "token") !== undefined) throw new UsageError("give the token with --token or --token-stdin, not both", "init");
  return (await firstLineOfStdin()).trim();
}

async function runJoin(ctx: CliContext, values: FlagValues): Promise<number> {
  for (const flag of ["store", "etcd-ca", "etcd-cert", "etcd-key", "admin"] as const) {
    if (stringFlag(values, flag) !== undefined) throw new UsageError(`--${flag} does not go with --join: the node receives the store settings and users from the cluster`, "init");
  }
  const token = await joinToken(values);
  const caCertHash = stringFlag(values, "ca-cert-hash");
  if (token === undefined || caCertHash === undefined) throw new UsageError("--join needs --token and --ca-cert-hash, as holdfast node join-command prints them", "init");
  const home = homeOf(ctx, values);
  const { joinHome } = await import("../app/index.ts");
  const { resolveNodeName } = await import("../controlplane/index.ts");
  const nodeName = resolveNodeName(stringFlag(values, "node-name"), undefined);
  const result = await joinHome({ home, join: stringFlag(values, "join") ?? "", token, caCertHash, nodeName, advertise: stringFlag(values, "advertise") ?? "127.0.0.1" });
  writeCliConfig(home, { ...readCliConfig(home), certificateAuthority: result.caFile });
  if (stringFlag(values, "output") === "json") {
    ctx.io.out(`${JSON.stringify(result, null, 2)}\n`);
    return 0;
  }
  ctx.io.out(
    `Joined ${home} to the cluster as node ${result.nodeName} (advertised at ${result.advertise}; store etcd://${result.storeEndpoints.join(",")})\n` +
      `Next: holdfast server --home ${home} --advertise ${result.advertise} --detach, then log in with your usual account\n`,
  );
  return 0;
}
