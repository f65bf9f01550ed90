/**
 * The acceptor's answer to an A-ASSOCIATE-RQ (PS3.8 7.1.1, 9.3.3, 9.3.4): access control first,
 * then one result per proposed presentation context.
 */
import {
  applicationContextUid,
  ContextResult,
  isStorageSopClass,
  rejectReasonText,
  RejectResult,
  RejectSource,
  storableTransferSyntaxes,
  verificationSopClassUid,
} from "./constants.ts";
import type { AssociateAc, AssociateRj, AssociateRq, PresentationContextResult } from "./pdu.ts";

/** What the acceptor checks an A-ASSOCIATE-RQ against. */
export interface AcceptorPolicy {
  aeTitle: string;
  /** Calling AE titles allowed; "*" allows any. */
  allowedSenders: readonly string[];
  /** Source addresses allowed; absent or empty allows any. */
  allowedAddresses?: readonly string[];
  remoteAddress: string;
  activeAssociations: number;
  maxAssociations: number;
  maxPduLength: number;
  implementationClassUid: string;
  implementationVersionName: string;
}

/** An accepted presentation context: what P-DATA on its id carries. */
export interface AcceptedContext {
  abstractSyntax: string;
  transferSyntax: string;
}

/** The outcome of negotiation. */
export type Negotiation =
  | { kind: "reject"; rj: AssociateRj; reasonText: string; detail: string }
  | { kind: "accept"; ac: AssociateAc; contexts: Map<number, AcceptedContext> };

function reject(result: number, source: number, reason: number, detail: string): Negotiation {
  return {
    kind: "reject",
    rj: { result, source, reason },
    reasonText: rejectReasonText(source, reason),
    detail,
  };
}

/** Decides on an A-ASSOCIATE-RQ. Pure: no I/O, so the rules are testable on their own. */
export function negotiate(rq: AssociateRq, policy: AcceptorPolicy): Negotiation {
  const { permanent, transient } = RejectResult;
  if (rq.applicationContext !== applicationContextUid) {
    return reject(
      permanent,
      RejectSource.serviceUser,
      2,
      `application context ${rq.applicationContext}`,
    );
  }
  // PS3.8 9.3.2: bit 0 of the protocol version must be set; other bits are for future versions.
  if ((rq.protocolVersion & 1) !== 1) {
    return reject(
      permanent,
      RejectSource.serviceProviderAcse,
      2,
      `protocol version ${rq.protocolVersion}`,
    );
  }
  // PS3.5 6.2 AE: leading and trailing spaces are not significant; compare case-sensitively.
  if (rq.calledAe !== policy.aeTitle.trim()) {
    return reject(permanent, RejectSource.serviceUser, 7, `called AE "${rq.calledAe}"`);
  }
  const senders = policy.allowedSenders.map((s) => s.trim());
  if (!senders.includes("*") && !senders.includes(rq.callingAe)) {
    return reject(
      permanent,
      RejectSource.serviceUser,
      3,
      `calling AE "${rq.callingAe}" not allowed`,
    );
  }
  const addresses = policy.allowedAddresses ?? [];
  if (addresses.length > 0 && !addresses.includes(policy.remoteAddress)) {
    return reject(
      permanent,
      RejectSource.serviceUser,
      3,
      `source address ${policy.remoteAddress} not allowed for calling AE "${rq.callingAe}"`,
    );
  }
  if (policy.activeAssociations >= policy.maxAssociations) {
    return reject(
      transient,
      RejectSource.serviceProviderPresentation,
      2,
      `${policy.activeAssociations} associations active, limit ${policy.maxAssociations}`,
    );
  }

  const contexts = new Map<number, AcceptedContext>();
  const results: PresentationContextResult[] = [];
  for (const proposal of rq.contexts) {
    const supported = proposal.abstractSyntax === verificationSopClassUid ||
      isStorageSopClass(proposal.abstractSyntax);
    // The first proposed syntax we support: an SCU that proposes a file's own syntax per context
    // then keeps its bytes (no transcoding on its side either).
    const ts = proposal.transferSyntaxes.find((t) => storableTransferSyntaxes.has(t));
    if (!supported) {
      results.push({
        id: proposal.id,
        result: ContextResult.abstractSyntaxNotSupported,
        transferSyntax: proposal.transferSyntaxes[0],
      });
    } else if (!ts) {
      results.push({
        id: proposal.id,
        result: ContextResult.transferSyntaxesNotSupported,
        transferSyntax: proposal.transferSyntaxes[0],
      });
    } else {
      results.push({ id: proposal.id, result: ContextResult.acceptance, transferSyntax: ts });
      contexts.set(proposal.id, { abstractSyntax: proposal.abstractSyntax, transferSyntax: ts });
    }
  }
  return {
    kind: "accept",
    contexts,
    ac: {
      protocolVersion: 1,
      calledAe: rq.calledAe,
      callingAe: rq.callingAe,
      applicationContext: applicationContextUid,
      contexts: results,
      userInfo: {
        maxPduLength: policy.maxPduLength,
        implementationClassUid: policy.implementationClassUid,
        implementationVersionName: policy.implementationVersionName,
        roles: [],
      },
    },
  };
}
