/** Control-plane nodes: the leader election of the controllers, the home's store configuration, and joining nodes. */
export { CONTROLLERS_LEASE, DEFAULT_ELECTION_TIMING, LeaderElection, type ElectionTiming, type LeaderElectionOptions, type LeaderTerm } from "./leader-election.ts";
export {
  EMBEDDED_STORE,
  readControlPlaneConfig,
  readEtcdTls,
  resolveNodeName,
  writeControlPlaneConfig,
  writeEtcdTls,
  type ControlPlaneConfig,
  type EtcdStoreConfig,
  type EtcdTlsMaterial,
  type StoreConfig,
} from "./node-config.ts";
export { consumeJoinToken, createJoinToken, removeExpiredJoinTokens, JOIN_TOKEN_TYPE, SYSTEM_NAMESPACE, type MintedJoinToken } from "./join-token.ts";
export { isAdvertiseAddress, nodeJoinAnswerSchema, nodeJoinService, type NodeJoinAnswer, type NodeJoinDeps } from "./node-join.ts";
export { discoverClusterCa, parseCaCertHash, parseJoinUrl, requestJoin } from "./join-client.ts";
