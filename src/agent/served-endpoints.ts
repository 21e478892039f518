/** Which endpoints a node serves for a cluster, and where each sends new connections, from the cluster's record (pure). */
import { parseEndpointAddress, type Cluster, type ClusterEndpoint } from "../api/index.ts";
import type { EndpointRoute, EndpointTarget } from "../runtime/index.ts";

/** New read-write connections wait this long for a primary (a failover) before they are closed. */
export const READ_WRITE_HOLD_MS = 30_000;
/** New read-only connections wait this long for a ready replica. */
export const READ_ONLY_HOLD_MS = 10_000;

/** One endpoint as this node serves it. */
export interface ServedEndpoint {
  /** Unique on the node: `<namespace>/<endpoint name>`. */
  key: string;
  endpoint: ClusterEndpoint;
  /** The address it listens on: the node's advertised one, or its external one for an exposed endpoint. */
  host: string;
  /** Forward only connections that start TLS (an exposed endpoint). */
  tlsOnly: boolean;
  holdTimeoutMs: number;
  route: EndpointRoute;
}

/** The addresses a node serves endpoints on. */
export interface NodeEndpointAddresses {
  /** Its advertised address: every endpoint but the exposed ones. */
  advertise: string;
  /** Its external address (`--external-address`): the exposed endpoints; absent, it serves none of them. */
  external?: string | undefined;
}

/**
 * The endpoints recorded for `cluster` with their routes; none for a cluster that is gone or being deleted. Exposed
 * endpoints listen on the node's external address, TLS only, and are left out on a node that has none.
 */
export function servedEndpoints(cluster: Cluster | undefined, addresses: NodeEndpointAddresses): ServedEndpoint[] {
  if (cluster === undefined || cluster.metadata.deletionTimestamp !== undefined) return [];
  const namespace = cluster.metadata.namespace ?? "default";
  return (cluster.status?.endpoints ?? []).flatMap((endpoint) => {
    const exposed = endpoint.exposed === true;
    const host = exposed ? addresses.external : addresses.advertise;
    if (host === undefined) return [];
    return [{
      key: `${namespace}/${endpoint.name}`,
      endpoint,
      host,
      tlsOnly: exposed,
      holdTimeoutMs: endpoint.access === "ReadWrite" ? READ_WRITE_HOLD_MS : READ_ONLY_HOLD_MS,
      route: { targets: targetsOf(endpoint), hold: endpoint.hold === true },
    }];
  });
}

/** The recorded addresses an endpoint forwards to (an address that does not parse is left out). */
function targetsOf(endpoint: ClusterEndpoint): EndpointTarget[] {
  return (endpoint.addresses ?? []).flatMap((address) => {
    const target = parseEndpointAddress(address);
    return target === undefined ? [] : [target];
  });
}
