export { packXdm } from "./pack.ts";
export { readXdm } from "./read.ts";
export * from "./errors.ts";
export type * from "./types.ts";
export type * from "./read.ts";
export type * from "./metadata_read.ts";
export type { XdmLimits, XdmRandomAccessSource } from "./zip_read.ts";
