/**
 * Dependency audit for CI: fails on known high or critical vulnerabilities in runtime dependencies.
 * When the registry's audit service cannot be reached, it says so plainly instead of passing silently.
 */
import { spawnSync } from "node:child_process";
import { REPO } from "./host.ts";

const result = spawnSync("npm", ["audit", "--omit=dev", "--json"], { cwd: REPO, encoding: "utf8" });
let report: { metadata?: { vulnerabilities?: Record<string, number> }; error?: { summary?: string } };
try {
  report = JSON.parse(result.stdout) as typeof report;
} catch {
  report = {};
}
const counts = report.metadata?.vulnerabilities;
if (!counts) {
  console.warn(`dependency audit UNAVAILABLE: the registry's audit service did not answer (${report.error?.summary ?? (result.stderr.trim().split("\n").pop() ?? "no output")}); nothing was checked`);
  process.exit(0);
}
const serious = (counts["high"] ?? 0) + (counts["critical"] ?? 0);
console.log(`dependency audit (runtime dependencies): ${JSON.stringify(counts)}`);
if (serious > 0) {
  console.error(`${serious} high or critical vulnerabilities in runtime dependencies: run npm audit --omit=dev for details`);
  process.exit(1);
}
