/** Where etcd is: `etcd://H1:2379,H2:2379` and the TLS files to reach it with. */
import { InputError } from "../../errors/index.ts";

/** How to reach an etcd cluster. */
export interface EtcdConnection {
  /** Members' client addresses, `host:port` (or a full http(s) URL); the client fails over in this order. */
  endpoints: string[];
  /** PEM file of the CA that signed the members' certificates: given, the client speaks https, otherwise http. */
  ca?: string;
  /** PEM file of the client certificate (with `key`), for members that require client certificates. */
  cert?: string;
  /** PEM file of the client certificate's private key. */
  key?: string;
}

const HOST_PORT = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):([0-9]{1,5})$/;

/** Parse `etcd://H1:2379,H2:2379,H3:2379` into its endpoints. */
export function parseEtcdUrl(url: string): string[] {
  const match = /^etcd:\/\/([^/?#]+)\/?$/.exec(url.trim());
  if (match?.[1] === undefined) {
    throw new InputError(`"${url}" is not an etcd store address; write it as etcd://HOST:PORT[,HOST:PORT...]`, {
      causes: [{ field: "store", message: "expected etcd://HOST:PORT[,HOST:PORT...]" }],
    });
  }
  return match[1].split(",").map((part) => checkHostPort(part.trim(), url));
}

/** A member's base URL: https when a CA is given, http otherwise; a full URL is kept as written. */
export function originOf(endpoint: string, tls: boolean): string {
  if (/^https?:\/\//.test(endpoint)) return endpoint.replace(/\/+$/, "");
  checkHostPort(endpoint, endpoint);
  return `${tls ? "https" : "http"}://${endpoint}`;
}

/** The endpoint as shown in messages: `host:port`. */
export function displayEndpoint(endpoint: string): string {
  return endpoint.replace(/^https?:\/\//, "").replace(/\/+$/, "");
}

function checkHostPort(part: string, whole: string): string {
  const match = HOST_PORT.exec(part);
  const port = Number(match?.[2]);
  if (match === null || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new InputError(`"${part}" in "${whole}" is not HOST:PORT (for example 10.0.0.1:2379)`, {
      causes: [{ field: "store", message: "expected HOST:PORT" }],
    });
  }
  return part;
}
