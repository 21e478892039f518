/** The local runtime's instance controller: one supervised database process per Instance. */
export * from "./reconciler.ts";
export * from "./layout.ts";
export * from "./backoff.ts";
export { readAccounts } from "./accounts.ts";
export { readReplicationCredentials } from "./replication.ts";
export { arbiterGroup, arbiterPair, arbitrationOf, type Arbitration, type ArbiterPair } from "./arbitration.ts";
