export { packXdm } from "./pack.ts";
export type * from "./types.ts";
