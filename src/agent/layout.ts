/** Where an instance's files live under the Holdfast home. */
import { join } from "node:path";
import type { Instance } from "../api/index.ts";
import type { HomePaths } from "../config/index.ts";
import type { InstanceLayout } from "../engines/index.ts";

/** The layout of an instance: `<instances>/<namespace>/<name>/{data,run}`. */
export function instanceLayout(paths: HomePaths, instance: Instance): InstanceLayout {
  const rootDirectory = join(paths.instancesDir, instance.metadata.namespace ?? "default", instance.metadata.name);
  return {
    instanceName: instance.metadata.name,
    rootDirectory,
    dataDirectory: join(rootDirectory, "data"),
    runDirectory: join(rootDirectory, "run"),
    port: instance.spec.port,
  };
}

/** The instance's log file: `<logs>/instances/<namespace>/<name>.log`. */
export function instanceLogFile(paths: HomePaths, instance: Instance): string {
  return join(paths.instanceLogsDir, instance.metadata.namespace ?? "default", `${instance.metadata.name}.log`);
}

/** The log of the instance's metrics exporter, beside the instance's own: `<logs>/instances/<namespace>/<name>.exporter.log`. */
export function exporterLogFile(paths: HomePaths, instance: Instance): string {
  return join(paths.instanceLogsDir, instance.metadata.namespace ?? "default", `${instance.metadata.name}.exporter.log`);
}
