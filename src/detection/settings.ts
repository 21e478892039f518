/**
 * The detection rules' thresholds: defaults here, overridden by `<home>/detections.yaml` (parsed once at start-up),
 * and the switch that turns detection off (`holdfast server --disable-detections`, or `enabled: false` in the file).
 */
import { readFile } from "node:fs/promises";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { InvalidError, errorMessage } from "../errors/index.ts";

const count = z.int().min(1);
const seconds = z.int().min(1);

/** Every threshold, with its default. */
export const detectionSettingsSchema = z.strictObject({
  /** Off: no signal is forwarded and no rule runs (the API and audit log are unchanged). */
  enabled: z.boolean().default(true),
  loginFailuresPerAccount: z.strictObject({ threshold: count.default(10), windowSeconds: seconds.default(300) }).prefault({}),
  /** Fires only when the failures name at least `minAccounts` accounts: one account's failures are the per-account rule's. */
  loginFailuresPerSource: z.strictObject({ threshold: count.default(20), windowSeconds: seconds.default(300), minAccounts: count.default(3) }).prefault({}),
  totpFailures: z.strictObject({ threshold: count.default(3), windowSeconds: seconds.default(600) }).prefault({}),
  authorizationDenials: z.strictObject({ threshold: count.default(20), windowSeconds: seconds.default(60) }).prefault({}),
  secretReads: z
    .strictObject({
      /** Reads by one principal in one window above which the rate is compared with its baseline. */
      minimum: count.default(20),
      /** How many times its own baseline (mean reads per window) a principal must exceed. */
      factor: z.number().min(1).default(5),
      windowSeconds: seconds.default(300),
      /** Reads a principal must have made before a namespace it never read counts as unusual. */
      learningReads: count.default(20),
    })
    .prefault({}),
  /** Superuser logins to one instance not made by Holdfast (from the database's log); 1 opens an incident at the first. */
  databaseSuperuserLogins: z.strictObject({ threshold: count.default(1), windowSeconds: seconds.default(300) }).prefault({}),
  /** Logins a database refused (wrong passwords) for one account of one instance, from the database's log. */
  databaseLoginFailures: z.strictObject({ threshold: count.default(10), windowSeconds: seconds.default(300) }).prefault({}),
  /** Groups whose members are administrators for the new-source-address rule. */
  adminGroups: z.array(z.string()).default(["system:masters"]),
  /** Evidence kept per incident (newest audit IDs). */
  maxEvidence: count.default(200),
});
/** See {@link detectionSettingsSchema}. */
export type DetectionSettings = z.infer<typeof detectionSettingsSchema>;

/** The defaults, as if the file were empty. */
export function defaultDetectionSettings(): DetectionSettings {
  return detectionSettingsSchema.parse({});
}

/** Read `file` (YAML) if it exists; `enabled` given from the command line wins over the file. */
export async function loadDetectionSettings(file: string, enabled: boolean | undefined): Promise<DetectionSettings> {
  const text = await readFile(file, "utf8").catch((error: unknown) => {
    if (error instanceof Error && "code" in error && error.code === "ENOENT") return "";
    throw error;
  });
  const parsed = detectionSettingsSchema.safeParse(text.trim() === "" ? {} : parseYaml(text));
  if (!parsed.success) {
    const causes = parsed.error.issues.map((issue) => ({ field: issue.path.join("."), message: issue.message }));
    throw new InvalidError(`${file} is invalid (${errorMessage(parsed.error)}); see docs/operations.md, "Detection rules"`, { causes });
  }
  return enabled === undefined ? parsed.data : { ...parsed.data, enabled };
}
