/** This server's node: its name (`--node-name`, default the host name) and the address it advertises (`--advertise`). */
import { isIP } from "node:net";
import { hostname } from "node:os";
import { NODE_HOSTNAME_LABEL, nodeLabelKeySchema, nodeLabelValueSchema, nodeNameSchema } from "../api/index.ts";
import { InvalidError } from "../errors/index.ts";

/** The node a server runs, as its options resolve. */
export interface NodeOptions {
  nodeName: string;
  advertise: string;
  /** The non-loopback address exposed endpoints listen on (`--external-address`), if given. */
  externalAddress?: string | undefined;
}

/** Resolve and check the node name and advertise address; the defaults are the host name and the listen host. */
export function resolveNodeOptions(options: { nodeName?: string | undefined; advertise?: string | undefined; externalAddress?: string | undefined; host: string }): NodeOptions {
  const nodeName = options.nodeName ?? hostname().toLowerCase();
  const parsed = nodeNameSchema.safeParse(nodeName);
  if (!parsed.success) {
    const why = parsed.error.issues[0]?.message ?? "is not a valid node name";
    const hint = options.nodeName === undefined ? "; the host name is the default: pass --node-name NAME" : "";
    throw new InvalidError(`node name ${JSON.stringify(nodeName)} ${why}${hint}`, { causes: [{ field: "--node-name", message: why }] });
  }
  const advertise = options.advertise ?? options.host;
  if (advertise === "" || /[\s/]/.test(advertise)) {
    throw new InvalidError(`--advertise ${JSON.stringify(advertise)} is not a host name or IP address`, { causes: [{ field: "--advertise", message: "must be a host name or IP address" }] });
  }
  const problem = options.externalAddress === undefined ? undefined : externalAddressProblem(options.externalAddress);
  if (problem !== undefined) throw new InvalidError(`--external-address ${JSON.stringify(options.externalAddress)} ${problem}`, { causes: [{ field: "--external-address", message: problem }] });
  return { nodeName, advertise, ...(options.externalAddress === undefined ? {} : { externalAddress: options.externalAddress }) };
}

/** Why `address` cannot be a node's external address (an IP address of this machine that is neither loopback nor a wildcard), or undefined. */
export function externalAddressProblem(address: string): string | undefined {
  const family = isIP(address);
  if (family === 0) return "is not an IP address: give the address of this machine that clients outside it reach";
  // The URL parser writes an IPv6 address in its shortest form ([::1], [::], [::ffff:7f00:1] for ::ffff:127.0.0.1).
  const v6 = family === 6 ? new URL(`http://[${address}]/`).hostname : "";
  const loopback = family === 4 ? address.startsWith("127.") : v6 === "[::1]" || v6.startsWith("[::ffff:7f");
  const wildcard = family === 4 ? address === "0.0.0.0" : v6 === "[::]";
  if (loopback) return "is a loopback address: an exposed endpoint must be reachable from other machines";
  if (wildcard) return "is a wildcard: give one address of this machine";
  return undefined;
}

/** The API server's URL as other nodes reach it: the advertised address and the port it listens on. */
export function advertisedApiUrl(advertise: string, listening: string): string {
  const port = new URL(listening).port;
  const host = advertise.includes(":") ? `[${advertise}]` : advertise;
  return `https://${host}${port === "" ? "" : `:${port}`}`;
}

/**
 * `--node-labels k=v,k2=v2` as labels (kubelet's flag): each key and value as Kubernetes allows them; the hostname
 * label is Holdfast's own. An empty string is no labels.
 */
export function parseNodeLabels(raw: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const pair of raw.split(",").map((p) => p.trim()).filter((p) => p !== "")) {
    const equals = pair.indexOf("=");
    const key = equals === -1 ? pair : pair.slice(0, equals);
    const value = equals === -1 ? undefined : pair.slice(equals + 1);
    const problem = labelProblem(key, value);
    if (problem !== undefined) throw new InvalidError(`--node-labels ${JSON.stringify(pair)}: ${problem}`, { causes: [{ field: "--node-labels", message: problem }] });
    labels[key] = value ?? "";
  }
  return labels;
}

function labelProblem(key: string, value: string | undefined): string | undefined {
  if (value === undefined) return "write each label as key=value";
  if (key === NODE_HOSTNAME_LABEL) return `${NODE_HOSTNAME_LABEL} is set by Holdfast to the node name`;
  if (!nodeLabelKeySchema.safeParse(key).success) return `the key ${nodeLabelKeySchema.safeParse(key).error?.issues[0]?.message ?? "is not valid"}`;
  if (!nodeLabelValueSchema.safeParse(value).success) return `the value ${nodeLabelValueSchema.safeParse(value).error?.issues[0]?.message ?? "is not valid"}`;
  return undefined;
}
