/** Admission: validation and defaulting of resources at the API boundary. */
export { createAdmission, invalid, type Admission } from "./pipeline.ts";
export { defaultAdmitters } from "./admitters.ts";
export { clusterCauses, enginesOf, type ClusterRuleInput, type EngineDirectory } from "./cluster-rules.ts";
export { opsRequestCauses } from "./ops-request-rules.ts";
export { foldStringData } from "./secret-normalize.ts";
export { fieldPath, issuesToCauses } from "./zod-causes.ts";
export type { AdmissionContext, AdmitterRegistry, KindAdmitter, WriteTarget } from "./types.ts";
