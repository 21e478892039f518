/** How backups and their verification print (pure). */
import type { Resource } from "../api/index.ts";
import { list, text } from "./fields.ts";
import { formatAge, formatTable, humanDuration } from "./output.ts";

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB"];

/** `1.5 MiB` from a byte count (a number or KubeBlocks' unit-less size string); `-` when unknown. */
export function formatBytes(value: number | string | undefined): string {
  const bytes = typeof value === "string" ? Number(value) : value;
  if (bytes === undefined || !Number.isFinite(bytes) || (typeof value === "string" && value === "")) return "-";
  let amount = bytes;
  let unit = 0;
  while (amount >= 1024 && unit < UNITS.length - 1) {
    amount /= 1024;
    unit++;
  }
  return unit === 0 ? `${amount} B` : `${amount.toFixed(1)} ${UNITS[unit] ?? ""}`;
}

/** `Running 120.0 MiB of ~300.0 MiB, 45.3 MiB/s, about 4s left` for a backup in progress; the phase alone otherwise. */
export function backupStatusLine(backup: Resource): string {
  const phase = text(backup, "status.phase", "New");
  const retries = text(backup, "status.retries");
  const retry = retries === "" || retries === "0" ? "" : ` (retry ${retries})`;
  const done = text(backup, "status.progress.bytesDone");
  if (phase !== "Running" || done === "") return phase === "Running" ? `${phase}${retry}` : phase;
  const estimate = text(backup, "status.progress.estimatedTotalBytes");
  const of = estimate === "" ? "" : ` of ~${formatBytes(estimate)}`;
  return `${phase} ${formatBytes(done)}${of}, ${formatBytes(text(backup, "status.progress.bytesPerSecond"))}/s${timeLeft(backup, "status.progress.etaSeconds")}${retry}`;
}

/** `, about 1m5s left` from a status field holding seconds; empty when absent. */
export function timeLeft(object: unknown, path: string): string {
  const seconds = text(object, path);
  return seconds === "" ? "" : `, about ${humanDuration(Number(seconds) * 1000)} left`;
}

/** `42.0 MiB of 300.0 MiB (14%), 20.0 MiB/s, about 12s left` for an instance restoring from a backup; empty otherwise. */
export function restoreProgressLine(instance: unknown): string {
  const done = text(instance, "status.restoreProgress.bytesDone");
  if (done === "") return "";
  const total = Number(text(instance, "status.restoreProgress.totalBytes", "NaN"));
  const percent = Number.isFinite(total) && total > 0 ? ` (${Math.min(100, Math.floor((Number(done) * 100) / total))}%)` : "";
  const of = Number.isFinite(total) ? ` of ${formatBytes(total)}${percent}` : "";
  return `${formatBytes(done)}${of}, ${formatBytes(text(instance, "status.restoreProgress.bytesPerSecond"))}/s${timeLeft(instance, "status.restoreProgress.etaSeconds")}`;
}

/** What a backup covers, `START..END` in UTC seconds (a continuous backup's END advances as WAL is archived). */
export function timeRangeText(backup: Resource): string {
  const short = (value: string): string => (value === "" ? "" : new Date(value).toISOString().replace(/\.\d{3}Z$/, "Z"));
  const start = short(text(backup, "status.timeRange.start"));
  const end = short(text(backup, "status.timeRange.end"));
  return start === "" && end === "" ? "-" : `${start}..${end}`;
}

/** The `holdfast backup list` table, columns as kbcli shows them. */
export function backupsTable(backups: readonly Resource[], now: Date, allNamespaces: boolean): string {
  const headers = [...(allNamespaces ? ["NAMESPACE"] : []), "NAME", "SOURCE-CLUSTER", "METHOD", "STATUS", "TOTAL-SIZE", "STORED-SIZE", "DURATION", "DELETION-POLICY", "CREATED", "EXPIRATION", "TIME-RANGE"];
  const rows = [...backups]
    .sort((a, b) => (a.metadata.creationTimestamp ?? "").localeCompare(b.metadata.creationTimestamp ?? ""))
    .map((b) => [
      ...(allNamespaces ? [b.metadata.namespace ?? ""] : []),
      b.metadata.name,
      text(b, "status.source.cluster") || (b.metadata.labels?.["app.kubernetes.io/instance"] ?? "-"),
      text(b, "spec.backupMethod"),
      backupStatusLine(b),
      formatBytes(text(b, "status.totalSize")),
      formatBytes(text(b, "status.storedSize")),
      text(b, "status.duration", "-"),
      text(b, "spec.deletionPolicy", "Delete"),
      formatAge(b.metadata.creationTimestamp, now),
      text(b, "status.expiration", "<none>"),
      timeRangeText(b),
    ]);
  return formatTable(headers, rows);
}

/** What `holdfast backup verify` prints: a verdict, then one line per bad object naming the chunk. */
export function verificationText(name: string, report: unknown): { text: string; ok: boolean } {
  const ok = text(report, "ok") === "true";
  const verified = text(report, "chunksVerified", "0");
  const total = text(report, "chunksTotal", "0");
  const bytes = formatBytes(text(report, "plaintextBytes"));
  const chain = list(report, "chain").map(String);
  const links = chain.length === 0 ? "" : `, incremental on ${chain.join(" <- ")}`;
  const lines = ok ? [`backup ${name} is intact: ${verified}/${total} chunks (${bytes}) checked, manifest sha256 ${text(report, "manifestSha256")}${links}`] : [`backup ${name} is DAMAGED: ${verified}/${total} chunks intact`];
  for (const problem of list(report, "problems")) {
    const stream = text(problem, "stream");
    const where = stream === "" ? "manifest" : `stream ${stream} chunk ${text(problem, "chunkIndex")}`;
    lines.push(`  ${where} (object ${text(problem, "objectKey")}): ${text(problem, "problem")}: ${text(problem, "message")}`);
  }
  const extra = list(report, "unreferencedObjects");
  if (extra.length > 0) lines.push(`  note: ${extra.length} object(s) of an earlier attempt are not part of the backup`);
  return { text: `${lines.join("\n")}\n`, ok };
}
