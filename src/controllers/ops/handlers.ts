/** The handler of each OpsRequest type this build carries out (SUPPORTED_OPS_TYPES), in one table. */
import type { OpsType } from "../../api/index.ts";
import { BackupOps } from "./backup-ops.ts";
import { CustomOps } from "./custom.ts";
import { Expose } from "./expose.ts";
import type { OpsHandler, OpsServices } from "./handler.ts";
import { HorizontalScaling } from "./horizontal-scaling.ts";
import { RebuildInstance } from "./rebuild-instance.ts";
import { Reconfiguring } from "./reconfiguring.ts";
import { Restart, StartStop } from "./restart.ts";
import { RestoreOps } from "./restore-ops.ts";
import { Switchover } from "./switchover-handler.ts";
import { Upgrade } from "./upgrade.ts";
import { VerticalScaling } from "./vertical-scaling.ts";
import { VolumeExpansion } from "./volume-expansion.ts";

/** The handlers by type; a type missing here is refused at admission and fails if it arrives anyway. */
export function opsHandlers(services: OpsServices): ReadonlyMap<OpsType, OpsHandler> {
  const startStop = new StartStop(services);
  return new Map<OpsType, OpsHandler>([
    ["Start", startStop],
    ["Stop", startStop],
    ["Restart", new Restart(services)],
    ["Switchover", new Switchover(services)],
    ["HorizontalScaling", new HorizontalScaling(services)],
    ["VerticalScaling", new VerticalScaling(services)],
    ["Reconfiguring", new Reconfiguring(services)],
    ["Expose", new Expose(services)],
    ["VolumeExpansion", new VolumeExpansion(services)],
    ["RebuildInstance", new RebuildInstance(services)],
    ["Upgrade", new Upgrade(services)],
    ["Backup", new BackupOps(services)],
    ["Restore", new RestoreOps(services)],
    ["Custom", new CustomOps(services)],
  ]);
}
