/** A lab of hosts on one machine (network namespaces, etcd, one Holdfast node each), for users, tests and benches. */
export { DEFAULT_LAB_HOME, Lab, labPrerequisites, type LabDescription, type LabHostStatus, type LabUpOptions } from "./lab.ts";
export { API_PORT, BRIDGE, LAB_PREFIX, MAX_NETWORK, NETWORK_NAMESPACE, SUBNET_PREFIX, hostAddress, labNetwork, planLab, type LabEtcdPlan, type LabHostPlan, type LabNetwork, type LabPlan } from "./plan.ts";
export { inNamespace, listNamespaces, mountPoints } from "./network.ts";
export { processesUnder } from "./processes.ts";
export { clusterUsersOf, removeClusterUsers } from "./cluster-users.ts";
export { HOLDFAST } from "./nodes.ts";
export type { CommandOptions, CommandResult } from "./commands.ts";
export type { LabState } from "./state.ts";
