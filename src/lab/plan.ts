/**
 * The lab's layout, decided once from the number of hosts and the lab's home: names, addresses, homes and the
 * etcd members. Pure, so the names `up` makes and the names `down` removes are the same by construction.
 */
import { join } from "node:path";
import { InvalidError } from "../errors/index.ts";

/** Every name a lab on network 1 makes starts with this (namespaces, links); its `down` touches nothing else. */
export const LAB_PREFIX = "hf-lab-";
/** Network 1's namespace holding the bridge: the root namespace gets no interface and no address on the lab network. */
export const NETWORK_NAMESPACE = `${LAB_PREFIX}net`;
export const BRIDGE = `${LAB_PREFIX}br`;
/** Network 1's private network; host N is `10.213.7.(10+N)`. */
export const SUBNET_PREFIX = "10.213.7";
export const SUBNET_BITS = 24;
/** Labs on networks 1 to 9 can run side by side: each has its own names and subnet. */
export const MAX_NETWORK = 9;
/** The port every host's API listens on (each host has its own network stack). */
export const API_PORT = 7420;
export const ETCD_CLIENT_PORT = 2379;
export const ETCD_PEER_PORT = 2380;
export const MAX_HOSTS = 20;
/** The interface name inside each host's namespace. */
export const HOST_INTERFACE = "eth0";

/**
 * The names and subnet of lab network `number`: network 1 is `hf-lab-*` on 10.213.7.0/24, network N ≥ 2 is
 * `hf-labN-*` on 10.213.(6+N).0/24, so two labs on different networks share no name and no address.
 */
export interface LabNetwork {
  number: number;
  /** Every namespace and link of the lab starts with it; `down` deletes nothing else. */
  prefix: string;
  /** The namespace holding the bridge. */
  namespace: string;
  bridge: string;
  /** The first three octets of the /24. */
  subnetPrefix: string;
}

/** Lab network `number` (1..9). */
export function labNetwork(number: number): LabNetwork {
  if (!Number.isInteger(number) || number < 1 || number > MAX_NETWORK) {
    throw new InvalidError(`--network ${number}: give a whole number from 1 to ${MAX_NETWORK}`, { causes: [{ field: "--network", message: `must be 1 to ${MAX_NETWORK}` }] });
  }
  const prefix = number === 1 ? LAB_PREFIX : `hf-lab${number}-`;
  return { number, prefix, namespace: `${prefix}net`, bridge: `${prefix}br`, subnetPrefix: `10.213.${6 + number}` };
}

/** One host: a network namespace with one address, running one Holdfast node. */
export interface LabHostPlan {
  /** 1-based. */
  index: number;
  /** The host's name, its namespace's name and its node's name (`hf-lab-N`, or `hf-labM-N` on network M). */
  name: string;
  namespace: string;
  address: string;
  /** `https://ADDRESS:7420`, reachable from inside any lab namespace. */
  api: string;
  /** The node's Holdfast home. */
  home: string;
  /** The bridge side of the host's veth pair, in the network namespace: `ip link set … down` cuts the host off. */
  bridgePort: string;
}

/** One etcd member, on one of the first three hosts. */
export interface LabEtcdPlan {
  name: string;
  /** The host (index) it runs on, and so its namespace and address. */
  host: number;
  namespace: string;
  clientUrl: string;
  peerUrl: string;
  dataDir: string;
  logFile: string;
}

/** The whole lab. */
export interface LabPlan {
  home: string;
  /** The lab network's number (1..9): its names and subnet are `labNetwork(network)`. */
  network: number;
  hosts: LabHostPlan[];
  etcd: LabEtcdPlan[];
  /** Where the administrator's credentials are written (0600 files). */
  adminDir: string;
}

/** The address of host `index` (1-based) on lab network `network`. */
export function hostAddress(index: number, network = 1): string {
  return `${labNetwork(network).subnetPrefix}.${10 + index}`;
}

/** Plan `count` hosts (1..20) under `home` (an absolute path) on lab network `network`; etcd runs on the first min(3, count). */
export function planLab(count: number, home: string, network = 1): LabPlan {
  const { prefix } = labNetwork(network);
  if (!Number.isInteger(count) || count < 1 || count > MAX_HOSTS) {
    throw new InvalidError(`--hosts ${count}: give a whole number from 1 to ${MAX_HOSTS}`, { causes: [{ field: "--hosts", message: `must be 1 to ${MAX_HOSTS}` }] });
  }
  const hosts: LabHostPlan[] = [];
  for (let index = 1; index <= count; index++) {
    const name = `${prefix}${index}`;
    const address = hostAddress(index, network);
    hosts.push({ index, name, namespace: name, address, api: `https://${address}:${API_PORT}`, home: join(home, "hosts", name), bridgePort: `${prefix}v${index}` });
  }
  const etcd = hosts.slice(0, 3).map((host): LabEtcdPlan => {
    const name = `etcd-${host.index}`;
    return {
      name,
      host: host.index,
      namespace: host.namespace,
      clientUrl: `http://${host.address}:${ETCD_CLIENT_PORT}`,
      peerUrl: `http://${host.address}:${ETCD_PEER_PORT}`,
      dataDir: join(home, "etcd", `${name}.data`),
      logFile: join(home, "etcd", `${name}.log`),
    };
  });
  return { home, network, hosts, etcd, adminDir: join(home, "admin") };
}

/** The namespaces of a plan, the network namespace last (so hosts lose their links before the bridge goes). */
export function namespacesOf(plan: Pick<LabPlan, "hosts" | "network">): string[] {
  return [...plan.hosts.map((host) => host.namespace), labNetwork(plan.network).namespace];
}
