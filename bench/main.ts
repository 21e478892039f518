/** `npm run bench -- NAME`: run one benchmark (or all) and print its figures next to the raw tool's. */
import { apiBenchmark } from "./api.ts";
import { auditBenchmark } from "./audit.ts";
import { auditQueryBenchmark } from "./audit-query.ts";
import { consoleBenchmark } from "./console.ts";
import { failoverBenchmark } from "./failover.ts";
import { failoverMultihostBenchmark } from "./failover-multihost.ts";
import { backupFormatBenchmark } from "./backup-format.ts";
import { backupBenchmark } from "./backup.ts";
import { provisionBenchmark } from "./provision.ts";
import { storeBenchmark } from "./store.ts";

const BENCHMARKS: Record<string, () => Promise<void>> = {
  provision: provisionBenchmark,
  audit: auditBenchmark,
  "audit-query": auditQueryBenchmark,
  api: apiBenchmark,
  failover: failoverBenchmark,
  "failover-multihost": failoverMultihostBenchmark,
  "backup-format": backupFormatBenchmark,
  backup: backupBenchmark,
  store: storeBenchmark,
  console: consoleBenchmark,
};

const requested = process.argv.slice(2).filter((a) => !a.startsWith("-"));
const names = requested.length > 0 ? requested : Object.keys(BENCHMARKS);
for (const name of names) {
  const bench = BENCHMARKS[name];
  if (!bench) {
    console.error(`unknown benchmark "${name}"; available: ${Object.keys(BENCHMARKS).join(", ")}`);
    process.exit(2);
  }
  await bench();
}
