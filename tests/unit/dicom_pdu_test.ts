/** PDU codec, DIMSE command sets, Part-10 meta and negotiation rules, without a network. */
import assert from "node:assert/strict";
import {
  decodePdu,
  encodeAbort,
  encodeAssociateAc,
  encodeAssociateRj,
  encodeAssociateRq,
  newAssociateRq,
} from "../../modules/dicom/pdu.ts";
import { decodeCommand, encodeCommand } from "../../modules/dicom/dimse.ts";
import { negotiate } from "../../modules/dicom/negotiation.ts";
import {
  buildPart10Header,
  DicomProtocolError,
  readPart10Header,
} from "../../modules/dicom/mod.ts";
import type { AssociateRq } from "../../modules/dicom/pdu.ts";

const ct = "1.2.840.10008.5.1.4.1.1.2";

function rq(overrides: Partial<AssociateRq> = {}): AssociateRq {
  return {
    ...newAssociateRq({
      calledAe: "BEELDPOORT",
      callingAe: "CT1",
      contexts: [
        { id: 1, abstractSyntax: "1.2.840.10008.1.1", transferSyntaxes: ["1.2.840.10008.1.2"] },
        {
          id: 3,
          abstractSyntax: ct,
          transferSyntaxes: ["1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2"],
        },
        {
          id: 5,
          abstractSyntax: "1.2.840.10008.5.1.4.1.2.2.1",
          transferSyntaxes: ["1.2.840.10008.1.2"],
        },
        { id: 7, abstractSyntax: ct, transferSyntaxes: ["1.2.3.4.5"] },
      ],
      userInfo: {
        maxPduLength: 16384,
        implementationClassUid: "1.2.3",
        implementationVersionName: "TEST",
        asyncOps: { invoked: 2, performed: 2 },
        roles: [{ sopClassUid: ct, scuRole: true, scpRole: false }],
      },
    }),
    ...overrides,
  };
}

const policy = {
  aeTitle: "BEELDPOORT",
  allowedSenders: ["CT1"],
  remoteAddress: "10.0.0.5",
  activeAssociations: 0,
  maxAssociations: 2,
  maxPduLength: 65536,
  implementationClassUid: "2.25.9",
  implementationVersionName: "BP",
};

Deno.test("A-ASSOCIATE-RQ survives encode and decode, with user info sub-items", () => {
  const bytes = encodeAssociateRq(rq());
  assert.equal(new DataView(bytes.buffer).getUint32(2), bytes.length - 6);
  const pdu = decodePdu(bytes[0], bytes.subarray(6));
  assert.equal(pdu.type, 1);
  assert.deepEqual(pdu.type === 1 && pdu.rq, rq());
});

Deno.test("negotiation: first supported syntax per context, unknown abstract (3) and syntaxes (4) refused", () => {
  const decision = negotiate(rq(), policy);
  assert.equal(decision.kind, "accept");
  if (decision.kind !== "accept") return;
  assert.deepEqual(
    decision.ac.contexts.map((c) => [c.id, c.result, c.result === 0 ? c.transferSyntax : null]),
    [[1, 0, "1.2.840.10008.1.2"], [3, 0, "1.2.840.10008.1.2.4.90"], [5, 3, null], [7, 4, null]],
  );
  assert.deepEqual([...decision.contexts.keys()], [1, 3]);
  assert.equal(decision.ac.userInfo.maxPduLength, 65536);
  const back = decodePdu(2, encodeAssociateAc(decision.ac).subarray(6));
  assert.deepEqual(
    back.type === 2 && back.ac.contexts,
    decision.ac.contexts.map((c) => ({ ...c })),
  );
});

Deno.test("negotiation: each access rule rejects with its PS3.8 result, source and reason", () => {
  const cases: [
    Partial<AssociateRq>,
    Partial<typeof policy> & { allowedAddresses?: string[] },
    number[],
    string,
  ][] = [
    [{ applicationContext: "1.2.3" }, {}, [1, 1, 2], "application context name not supported"],
    [{ calledAe: "OTHER" }, {}, [1, 1, 7], "called AE title not recognized"],
    [{ callingAe: "EVIL" }, {}, [1, 1, 3], "calling AE title not recognized"],
    [{}, { allowedAddresses: ["10.0.0.6"] }, [1, 1, 3], "calling AE title not recognized"],
    [{}, { activeAssociations: 2 }, [2, 3, 2], "local limit exceeded"],
    [{ protocolVersion: 2 }, {}, [1, 2, 2], "protocol version not supported"],
  ];
  for (const [change, rules, expected, words] of cases) {
    const decision = negotiate(rq(change), { ...policy, ...rules });
    assert.equal(decision.kind, "reject", words);
    if (decision.kind !== "reject") continue;
    assert.deepEqual([decision.rj.result, decision.rj.source, decision.rj.reason], expected);
    assert.equal(decision.reasonText, words);
    assert.deepEqual(
      encodeAssociateRj(decision.rj),
      Uint8Array.of(3, 0, 0, 0, 0, 4, 0, ...expected),
    );
  }
  assert.equal(
    negotiate(rq({ callingAe: "ANY" }), { ...policy, allowedSenders: ["*"] }).kind,
    "accept",
  );
});

Deno.test("malformed PDUs throw DicomProtocolError with the abort reason", () => {
  const good = encodeAssociateRq(rq());
  const overrun = good.slice(6);
  overrun[70] = 0xff; // first item's length now overruns the PDU
  assert.throws(() => decodePdu(1, overrun), DicomProtocolError);
  assert.throws(() => decodePdu(1, new Uint8Array(10)), /shorter than its fixed fields/);
  assert.throws(() => decodePdu(4, Uint8Array.of(0, 0, 0, 1, 1)), /PDV/);
  assert.throws(
    () => decodePdu(9, new Uint8Array(4)),
    (e: DicomProtocolError) => e.abortReason === 1,
  );
  assert.deepEqual(encodeAbort(2, 6), Uint8Array.of(7, 0, 0, 0, 0, 4, 0, 0, 2, 6));
});

Deno.test("DIMSE command sets round-trip with a correct group length and even padding", () => {
  const command = {
    commandField: 0x8001,
    messageIdBeingRespondedTo: 7,
    affectedSopClassUid: ct,
    affectedSopInstanceUid: "1.2.3.45",
    commandDataSetType: 0x0101,
    status: 0xa700,
    errorComment: "disk full",
  };
  const bytes = encodeCommand(command);
  const v = new DataView(bytes.buffer);
  assert.equal(v.getUint32(8, true), bytes.length - 12);
  assert.equal(bytes.length % 2, 0);
  assert.deepEqual(decodeCommand(bytes), command);
});

Deno.test("Part-10 meta header: group length counts the group, and it reads back", () => {
  const meta = buildPart10Header({
    sopClassUid: ct,
    sopInstanceUid: "1.2.3.4.5",
    transferSyntaxUid: "1.2.840.10008.1.2.1",
    sourceAe: "CT1",
  });
  assert.deepEqual(meta.subarray(0, 128), new Uint8Array(128));
  assert.equal(new TextDecoder().decode(meta.subarray(128, 132)), "DICM");
  const groupLength = new DataView(meta.buffer).getUint32(140, true);
  assert.equal(groupLength, meta.length - 144);
  assert.deepEqual(readPart10Header(meta), {
    datasetOffset: meta.length,
    transferSyntaxUid: "1.2.840.10008.1.2.1",
    sopClassUid: ct,
    sopInstanceUid: "1.2.3.4.5",
  });
});
