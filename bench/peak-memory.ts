/**
 * Peak memory of the process doing a backup's or a restore's work: the RSS high-water mark (VmHWM) of a running
 * process, reset before the work through /proc/<pid>/clear_refs (owner or root), and the largest maximum RSS of a
 * command and the processes it waited for (GNU time's %M, which Linux takes from wait4's rusage).
 */
import { readFile, rm, writeFile } from "node:fs/promises";

const KIB = 1024;
export const MIB = 1024 * 1024;

/** Reset the RSS high-water mark of `pid` to its current RSS; returns that RSS (bytes), NaN when the kernel refuses. */
export async function resetPeak(pid: number): Promise<number> {
  try {
    await writeFile(`/proc/${pid}/clear_refs`, "5");
    return await statusField(pid, "VmRSS");
  } catch {
    return Number.NaN;
  }
}

/** VmHWM of `pid` in bytes, or NaN when it cannot be read. */
export function peakOf(pid: number): Promise<number> {
  return statusField(pid, "VmHWM");
}

/** What a process's resident memory is made of now (bytes): anonymous (heaps, stacks), file-backed (code, libraries), shared. */
export async function residentParts(pid: number): Promise<{ anon: number; file: number; shmem: number; threads: number }> {
  const [anon, file, shmem, threads] = await Promise.all([statusField(pid, "RssAnon"), statusField(pid, "RssFile"), statusField(pid, "RssShmem"), statusField(pid, "Threads")]);
  return { anon, file, shmem, threads: threads / KIB };
}

async function statusField(pid: number, field: "VmHWM" | "VmRSS" | "RssAnon" | "RssFile" | "RssShmem" | "Threads"): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8").catch(() => "");
  const line = status.split("\n").find((entry) => entry.startsWith(`${field}:`));
  const kib = Number(line?.slice(field.length + 1).replace("kB", "").trim() ?? Number.NaN);
  return Number.isFinite(kib) ? kib * KIB : Number.NaN;
}

/** `command args` under /usr/bin/time: the largest max RSS among it and its waited-for descendants, in bytes. */
export function timedCommand(command: string, args: readonly string[], report: string): { command: string; args: string[] } {
  return { command: "/usr/bin/time", args: ["-f", "%M", "-o", report, command, ...args] };
}

export async function readTimeReport(report: string): Promise<number> {
  const text = await readFile(report, "utf8").catch(() => "");
  await rm(report, { force: true });
  const kib = Number(text.trim().split("\n").at(-1));
  return Number.isFinite(kib) && text.trim() !== "" ? kib * KIB : Number.NaN;
}

export function mib(bytes: number): string {
  return Number.isFinite(bytes) ? `${(bytes / MIB).toFixed(0)} MiB` : "n/a";
}

/**
 * The peak memory (bytes) a backup's or a restore's own process reported (ADR 0044, ADR 0050), from what Holdfast said
 * of it ("backup process peak memory N MiB" in the BackupProcess event, "restore process peak memory N MiB" in the
 * Restored condition); NaN when it says none.
 */
export function ownProcessPeak(said: string, work: "backup" | "restore"): number {
  const peak = (work === "backup" ? /backup process peak memory (\d+) MiB/ : /restore process peak memory (\d+) MiB/).exec(said);
  return peak === null ? Number.NaN : Number(peak[1]) * MIB;
}
