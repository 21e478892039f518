/** Reading fields of objects whose shape the server owns, without trusting it blindly (shared with the server's tables). */
export { fieldList as list, fieldRecord as record, fieldText as text, pickField as pick } from "../api/index.ts";
