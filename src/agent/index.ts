/** The node agent: the only door to a database process. Its instance controller runs one supervised process per Instance bound to this node. */
export * from "./reconciler.ts";
export * from "./layout.ts";
export * from "./backoff.ts";
export { readAccounts } from "./accounts.ts";
export { readReplicationCredentials } from "./replication.ts";
export { arbiterGroup, arbiterPair, arbitrationOf, type Arbitration, type ArbiterPair } from "./arbitration.ts";
export { observationOf, observedSince } from "./replication-state.ts";
