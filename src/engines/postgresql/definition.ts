/** What a PostgreSQL cluster is made of: topologies, system accounts, packages. */
import type { ClusterDefinition, StopBehaviour, SystemAccount } from "../types.ts";

/** The built-in ClusterDefinition `postgresql`: `replication` runs a primary and up to four streaming replicas. */
export const POSTGRESQL_DEFINITION: ClusterDefinition = {
  name: "postgresql",
  topologies: [
    { name: "replication", default: true, components: [{ name: "postgresql", minReplicas: 1, maxReplicas: 5, replicated: true }] },
    { name: "standalone", default: false, components: [{ name: "postgresql", minReplicas: 1, maxReplicas: 1 }] },
  ],
};

/** The superuser; first, so it is the administrator used for probes and `cluster connect`. */
export const POSTGRESQL_ACCOUNTS: readonly SystemAccount[] = [{ name: "postgres", purpose: "superuser: administration, probes and replication setup" }];

/** Debian packages providing the server and psql. */
export const POSTGRESQL_PACKAGES: readonly string[] = ["postgresql", "postgresql-client"];

/** SIGINT is PostgreSQL's "fast shutdown": roll back open transactions, checkpoint, exit. */
export const POSTGRESQL_STOP: StopBehaviour = { signal: "SIGINT", timeoutMs: 30_000 };
