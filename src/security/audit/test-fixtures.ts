/** Shared by this folder's tests: a temporary audit directory and sample events. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AuditLogOptions } from "./audit-log.ts";
import type { AuditEventInput } from "./record.ts";

/** A fresh directory with the log under `log/` and the keys under `keys/`. */
export interface AuditFixture {
  root: string;
  options: AuditLogOptions;
  publicKeyFile: string;
  remove(): void;
}

/** A temporary audit directory; `remove()` deletes it. */
export function auditFixture(overrides: Partial<AuditLogOptions> = {}): AuditFixture {
  const root = mkdtempSync(join(tmpdir(), "holdfast-audit-"));
  const signingKeyFile = join(root, "keys", "audit-signing.pem");
  const options: AuditLogOptions = {
    directory: join(root, "log"),
    signingKeyFile,
    hmacKeyFile: join(root, "keys", "audit-hmac.key"),
    checkpointIntervalMs: 3_600_000,
    ...overrides,
  };
  return { root, options, publicKeyFile: `${signingKeyFile}.pub`, remove: () => rmSync(root, { recursive: true, force: true }) };
}

/** A create of a cluster by `alice`, numbered `i` (in the name). */
export function sampleEvent(i: number, overrides: Partial<AuditEventInput> = {}): AuditEventInput {
  return {
    verb: "create",
    user: { username: "alice", groups: ["system:authenticated"] },
    sourceIPs: ["127.0.0.1"],
    userAgent: "holdfast-cli/0.1",
    objectRef: { resource: "clusters", namespace: "default", name: `pg-${i}`, apiGroup: "apps.kubeblocks.io", apiVersion: "v1" },
    responseStatus: { code: 201 },
    requestReceivedTimestamp: new Date().toISOString(),
    annotations: { "authorization.k8s.io/decision": "allow", "authorization.k8s.io/reason": 'RBAC: allowed by ClusterRoleBinding "admins"' },
    requestObject: { apiVersion: "apps.kubeblocks.io/v1", kind: "Cluster", metadata: { name: `pg-${i}` }, spec: { replicas: 1 } },
    ...overrides,
  };
}
