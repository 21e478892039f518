/**
 * `npm run test:multihost`: the tests that run on a lab of hosts (test/multihost/, network namespaces on this machine;
 * root, iproute2 and etcd, installed here as root on Debian). One file at a time: each makes and removes its own lab.
 */
import { spawnSync } from "node:child_process";
import { ensureLabHost, REPO } from "./host.ts";

await ensureLabHost();
const args = ["--disable-warning=ExperimentalWarning", "--test", "--test-concurrency=1", "test/multihost/**/*.test.ts", ...process.argv.slice(2)];
const result = spawnSync(process.execPath, args, { cwd: REPO, stdio: "inherit" });
process.exit(result.status ?? 1);
