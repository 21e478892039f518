/** What a Redis cluster is made of: topologies, system accounts, packages. */
import type { ClusterDefinition, StopBehaviour, SystemAccount } from "../types.ts";

/**
 * The built-in ClusterDefinition `redis`. `replication` runs a master with up to four replicas, watched by a
 * separate `redis-sentinel` component: Sentinel decides who is master and fails over (see docs/adr/0009).
 * KubeBlocks defaults to `replication`; here `standalone` stays the default, as clusters created before
 * replication existed name no topology.
 */
export const REDIS_DEFINITION: ClusterDefinition = {
  name: "redis",
  topologies: [
    { name: "standalone", default: true, components: [{ name: "redis", minReplicas: 1, maxReplicas: 1 }] },
    {
      name: "replication",
      default: false,
      components: [
        { name: "redis", minReplicas: 1, maxReplicas: 5, defaultReplicas: 2, replicated: true },
        // An odd number (3 or 5) lets a majority survive the loss of any one Sentinel.
        { name: "redis-sentinel", minReplicas: 1, maxReplicas: 5, defaultReplicas: 3, arbiterOf: "redis" },
      ],
    },
  ],
};

/** The ACL user `default`; first, so it is the administrator used for probes and `cluster connect`. */
export const REDIS_ACCOUNTS: readonly SystemAccount[] = [{ name: "default", purpose: "administrator: all commands and keys, probes" }];

/** Debian packages providing the server and redis-cli. */
export const REDIS_PACKAGES: readonly string[] = ["redis-server", "redis-tools"];

/** SIGTERM makes Redis save (AOF fsync / RDB) and exit. */
export const REDIS_STOP: StopBehaviour = { signal: "SIGTERM", timeoutMs: 30_000 };
