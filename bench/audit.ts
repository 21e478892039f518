/**
 * Durable audit throughput: N events appended by the AuditLog with C in flight (hash chain, redaction, group commit,
 * signed checkpoints), against the floor measured in the same run: the same JSON lines appended with plain fs and one
 * fdatasync per batch of C lines. Also shown for context: one fdatasync per line, which group commit avoids.
 */
import { constants } from "node:fs";
import { mkdtemp, open, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AuditLog, type AuditEventInput } from "../src/security/index.ts";

const EVENTS = Number(process.env["BENCH_AUDIT_EVENTS"] ?? 50_000);
const IN_FLIGHT = Number(process.env["BENCH_AUDIT_CONCURRENCY"] ?? 64);
const PER_LINE_SAMPLE = 2_000;

export async function auditBenchmark(): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), "holdfast-bench-audit-"));
  try {
    const holdfast = await holdfastRate(root);
    const lines = (await readFile(join(root, "log", "audit.log"), "utf8")).split("\n").filter((line) => line.length > 0);
    const floor = await rawRate(join(root, "floor.log"), lines, IN_FLIGHT);
    const perLine = await rawRate(join(root, "per-line.log"), lines.slice(0, PER_LINE_SAMPLE), 1);
    report(holdfast, floor, perLine);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

async function holdfastRate(root: string): Promise<number> {
  const log = await AuditLog.open({
    directory: join(root, "log"),
    signingKeyFile: join(root, "keys", "signing.pem"),
    hmacKeyFile: join(root, "keys", "hmac.key"),
  });
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < EVENTS) await log.append(benchEvent(next++));
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  const seconds = (performance.now() - started) / 1000;
  await log.close();
  return EVENTS / seconds;
}

/** Plain fs: write `batch` lines at a time, fdatasync after each batch. */
async function rawRate(path: string, lines: readonly string[], batch: number): Promise<number> {
  const handle = await open(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT, 0o600);
  const started = performance.now();
  try {
    for (let i = 0; i < lines.length; i += batch) {
      await handle.write(`${lines.slice(i, i + batch).join("\n")}\n`);
      await handle.datasync();
    }
  } finally {
    await handle.close();
  }
  return lines.length / ((performance.now() - started) / 1000);
}

/** The i-th event of a benchmark log: a mix of users, verbs and clusters, with a credential to redact. */
export function benchEvent(i: number): AuditEventInput {
  return {
    verb: i % 4 === 0 ? "get" : "update",
    user: { username: `user-${i % 17}`, groups: ["system:authenticated"] },
    sourceIPs: ["127.0.0.1"],
    userAgent: "holdfast-bench",
    objectRef: { resource: "clusters", namespace: "default", name: `pg-${i % 100}`, apiGroup: "apps.kubeblocks.io", apiVersion: "v1" },
    responseStatus: { code: 200 },
    requestReceivedTimestamp: new Date().toISOString(),
    annotations: { "authorization.k8s.io/decision": "allow", "authorization.k8s.io/reason": 'RBAC: allowed by RoleBinding "dev/editors"' },
    requestObject: { metadata: { name: `pg-${i % 100}` }, spec: { replicas: 1 + (i % 3), credentials: { password: `pw-${i % 5}` } } },
  };
}

function report(holdfast: number, floor: number, perLine: number): void {
  const rate = (value: number): string => `${Math.round(value).toLocaleString("en-US")} /s`;
  console.log(`\naudit: durable events per second (${EVENTS.toLocaleString("en-US")} events, ${IN_FLIGHT} in flight)`);
  console.log("holdfast AuditLog".padEnd(38), rate(holdfast).padStart(12), `${(holdfast / floor).toFixed(2)}x of floor`.padStart(16));
  console.log(`floor: plain fs, fdatasync per ${IN_FLIGHT} lines`.padEnd(38), rate(floor).padStart(12));
  console.log(`plain fs, fdatasync per line (${PER_LINE_SAMPLE})`.padEnd(38), rate(perLine).padStart(12));
  console.log("holdfast: hash chain + redaction + group commit + signed checkpoints every 1000 events; every append resolved only after fdatasync\n");
}
