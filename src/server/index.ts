/** The HTTP API server and admission of resources. */
export { createApiServer, type ApiServer, type ApiServerOptions } from "./api-server.ts";
export type { DataProtectionApi } from "./data-protection-api.ts";
export type { MonitoringApi } from "./monitoring-api.ts";
export { requestSample, type RequestObserver } from "./pipeline.ts";
export { NODE_JOIN_API, nodeJoinRequestSchema, type NodeJoinApi, type NodeJoinRequest } from "./node-join-api.ts";
export type { EngineLookup } from "./engine-lookup.ts";
export { errorToStatus, type ErrorResponse } from "./error-status.ts";
export { MethodNotAllowedError, RequestEntityTooLargeError, UnsupportedMediaTypeError } from "./http-errors.ts";
export { applyMergePatch } from "./merge-patch.ts";
export { parseRoute, pathOf, type ResourceRoute, type Route } from "./route.ts";
export {
  clusterCauses,
  createAdmission,
  defaultAdmitters,
  issuesToCauses,
  opsRequestCauses,
  type Admission,
  type AdmissionContext,
  type AdmitterRegistry,
  type KindAdmitter,
} from "./admission/index.ts";
export type { Access } from "./access/index.ts";
export { auditEventsLimit, auditEventsQuery, LOGIN_PATH, type KeyOperations } from "./security-api/index.ts";
export type { InstanceLogApi, LogRequest, LogSource } from "./instance-log-api.ts";
