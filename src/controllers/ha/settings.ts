/** Per-cluster high-availability settings: parsed in the API package, where the node agent reads them too. */
export { ANNOTATION_FAILOVER, ANNOTATION_FAILURE_THRESHOLD, ANNOTATION_PROBE_PERIOD, ANNOTATION_SWITCHOVER_TIMEOUT, DEFAULT_HA_SETTINGS, haSettings, type HaSettings } from "../../api/index.ts";
