/**
 * Data-protection actions that are not object writes: `POST .../namespaces/{ns}/backups/{name}/verify` re-reads a
 * whole backup on the server (which holds the keys) and answers with what it found. RBAC: create backups/verify.
 */
import type { VerificationReport } from "../backup/index.ts";
import type { Endpoint } from "./endpoint.ts";
import { MethodNotAllowedError } from "./http-errors.ts";

const GROUP = "dataprotection.kubeblocks.io";
const VERSION = "v1alpha1";

/** What the API server needs to verify backups. */
export interface DataProtectionApi {
  verifyBackup(namespace: string, name: string): Promise<VerificationReport>;
}

/** The answer of a verification, as a Kubernetes-style object. */
export function verificationBody(namespace: string, name: string, report: VerificationReport): Record<string, unknown> {
  return { apiVersion: `${GROUP}/${VERSION}`, kind: "BackupVerification", metadata: { namespace, name }, status: report };
}

/** The endpoint for a verify path, or undefined when the path is not one. */
export function dataProtectionEndpoint(api: DataProtectionApi | undefined, method: string, segments: readonly string[]): Endpoint | undefined {
  const [apis, group, version, namespaces, namespace, resource, name, action, ...extra] = segments;
  const matches = apis === "apis" && group === GROUP && version === VERSION && namespaces === "namespaces" && resource === "backups" && action === "verify" && extra.length === 0;
  if (!matches || api === undefined || namespace === undefined || name === undefined) return undefined;
  if (method !== "POST") throw new MethodNotAllowedError(`${method} is not allowed on backups/${name}/verify; use POST`);
  const attributes = { verb: "create", apiGroup: GROUP, resource: "backups", subresource: "verify", namespace, name };
  return {
    permission: () => ({ verb: "create", attributes }),
    run: async () => ({ status: 200, body: verificationBody(namespace, name, await api.verifyBackup(namespace, name)) }),
  };
}
