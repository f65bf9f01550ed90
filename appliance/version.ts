/** The release of this build; `beeldpoort version` and /healthz report it. */
export const version = "0.1.0";
