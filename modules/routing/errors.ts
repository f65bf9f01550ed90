import { BeeldpoortError } from "../core/mod.ts";

/**
 * A rule or destination definition is wrong; `problems` lists every fault found, each naming the
 * field (`match.tags.BodyPartExamnied: not a DICOM keyword`).
 *
 * @example
 * ```ts
 * try { await router.addRule(definition); } catch (e) { if (e instanceof RoutingDefinitionInvalid) console.error(e.problems); }
 * ```
 */
export class RoutingDefinitionInvalid extends BeeldpoortError {
  readonly code = "ROUTING_DEFINITION_INVALID";
  constructor(readonly problems: string[]) {
    super(`invalid definition: ${problems.join("; ")}`);
  }
}

/** No rule or destination by that id or name. */
export class RoutingNotFound extends BeeldpoortError {
  readonly code = "ROUTING_NOT_FOUND";
}
