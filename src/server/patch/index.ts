/** The patch formats of PATCH: JSON patch, strategic merge patch and server-side apply with field ownership. */
export { applyJsonPatch, parseJsonPatch, type JsonPatchOperation } from "./json-patch.ts";
export { applyStrategicMergePatch, type ListMergeLookup } from "./strategic-merge-patch.ts";
export { fieldManagerOf, recordUpdate, serverSideApply, type ManagedFieldsEntry, type Writer } from "./managed-fields.ts";
