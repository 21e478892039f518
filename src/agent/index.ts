/** The node agent: the only door to a database process. Its instance controller runs one supervised process per Instance bound to this node. */
export * from "./reconciler.ts";
export * from "./layout.ts";
export { instanceContext } from "./instance-context.ts";
export * from "./backoff.ts";
export { readAccounts } from "./accounts.ts";
export { readReplicationCredentials } from "./replication.ts";
export { arbiterGroup, arbiterInstances, arbiterPair, arbitrationOf, type Arbitration, type ArbiterPair } from "./arbitration.ts";
export { observationOf, observedSince } from "./replication-state.ts";
export { NodeHeartbeat, type NodeHeartbeatOptions } from "./node-heartbeat.ts";
export { installedEngines, type NodeIdentity } from "./node-facts.ts";
export { heartbeatStatus, NODE_AGENT_READY, type NodeFacts } from "./node-status.ts";
export { bindingDecision, claimInstance, type BindingDecision, type NodeBinding } from "./binding.ts";
export { BackupRunner, type BackupRunnerOptions } from "./backup-runner.ts";
export { WAL_ARCHIVER_KEY, WalArchiver, type WalArchiverOptions } from "./wal-archiver.ts";
export { EndpointReconciler, type EndpointReconcilerOptions } from "./endpoints.ts";
export { READ_ONLY_HOLD_MS, READ_WRITE_HOLD_MS, servedEndpoints, type ServedEndpoint } from "./served-endpoints.ts";
export { databaseAddress } from "./database-address.ts";
export { followLog, lineTime, MAX_LOG_BYTES, readLogEnd, selectLines, type LogOptions } from "./instance-log.ts";
