/** `npm test`: prepare the host (engines, clients), then run unit and end-to-end tests with real servers. */
import { spawnSync } from "node:child_process";
import { ensureHost, ensureTestHost, REPO } from "./host.ts";

await ensureHost();
ensureTestHost();
// One file at a time: end-to-end files start servers and databases, and the machine has two cores.
// test/multihost needs root and network namespaces: it runs with npm run test:multihost (scripts/test-multihost.ts).
const args = ["--disable-warning=ExperimentalWarning", "--test", "--test-concurrency=1", "src/**/*.test.ts", "bench/**/*.test.ts", "test/!(multihost)/**/*.test.ts", ...process.argv.slice(2)];
const result = spawnSync(process.execPath, args, { cwd: REPO, stdio: "inherit" });
process.exit(result.status ?? 1);
