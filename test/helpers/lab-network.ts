/**
 * The lab network the multihost tests run on: `HOLDFAST_TEST_LAB_NETWORK` (1 to 9, default 1), read here alone, so
 * that test runs on one machine can each have a lab of their own (`hf-labN-*` on 10.213.(6+N).0/24, src/lab/plan.ts).
 */
import { labNetwork, type LabNetwork } from "../../src/lab/index.ts";

export const TEST_LAB_NETWORK_VARIABLE = "HOLDFAST_TEST_LAB_NETWORK";

/** The lab network named by `HOLDFAST_TEST_LAB_NETWORK` in `env` (network 1 when unset); an invalid value throws. */
export function testLabNetwork(env: NodeJS.ProcessEnv = process.env): LabNetwork {
  const value = env[TEST_LAB_NETWORK_VARIABLE]?.trim() ?? "";
  if (value === "") return labNetwork(1);
  if (!/^[0-9]+$/.test(value)) throw new Error(`${TEST_LAB_NETWORK_VARIABLE}=${value}: give a lab network number from 1 to 9`);
  return labNetwork(Number(value));
}
