/** This server's node: its name (`--node-name`, default the host name) and the address it advertises (`--advertise`). */
import { hostname } from "node:os";
import { nodeNameSchema } from "../api/index.ts";
import { InvalidError } from "../errors/index.ts";

/** The node a server runs, as its options resolve. */
export interface NodeOptions {
  nodeName: string;
  advertise: string;
}

/** Resolve and check the node name and advertise address; the defaults are the host name and the listen host. */
export function resolveNodeOptions(options: { nodeName?: string | undefined; advertise?: string | undefined; host: string }): NodeOptions {
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
  return { nodeName, advertise };
}

/** The API server's URL as other nodes reach it: the advertised address and the port it listens on. */
export function advertisedApiUrl(advertise: string, listening: string): string {
  const port = new URL(listening).port;
  const host = advertise.includes(":") ? `[${advertise}]` : advertise;
  return `https://${host}${port === "" ? "" : `:${port}`}`;
}
