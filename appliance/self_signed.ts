import * as asn1js from "asn1js";
import * as pkijs from "pkijs";

function pem(label: string, der: ArrayBuffer): string {
  const b64 = btoa(String.fromCharCode(...new Uint8Array(der)));
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

/**
 * Makes a self-signed ECDSA P-256 certificate for the web UI on first run, so HTTPS works before
 * the hospital installs its own certificate. Valid for `days` days, for localhost and the names
 * given.
 */
export async function generateSelfSignedCertificate(
  options: { commonName: string; altNames: string[]; days: number; now?: Date },
): Promise<{ certPem: string; keyPem: string }> {
  const crypto = globalThis.crypto;
  const keys = await crypto.subtle.generateKey(
    { name: "ECDSA", namedCurve: "P-256" },
    true,
    ["sign", "verify"],
  ) as CryptoKeyPair;

  const now = options.now ?? new Date();
  const cert = new pkijs.Certificate();
  cert.version = 2;
  const serial = crypto.getRandomValues(new Uint8Array(16));
  serial[0] &= 0x7f; // positive INTEGER
  cert.serialNumber = new asn1js.Integer({ valueHex: serial.buffer });
  const name = [
    new pkijs.AttributeTypeAndValue({
      type: "2.5.4.3",
      value: new asn1js.Utf8String({ value: options.commonName }),
    }),
  ];
  cert.issuer.typesAndValues = name;
  cert.subject.typesAndValues = name;
  cert.notBefore.value = new Date(now.getTime() - 60_000);
  cert.notAfter.value = new Date(now.getTime() + options.days * 86_400_000);

  const altNames = options.altNames.map((n) =>
    /^[\d.]+$/.test(n)
      ? new pkijs.GeneralName({
        type: 7,
        value: new asn1js.OctetString({
          valueHex: new Uint8Array(n.split(".").map(Number)).buffer,
        }),
      })
      : new pkijs.GeneralName({ type: 2, value: n })
  );
  cert.extensions = [
    new pkijs.Extension({
      extnID: "2.5.29.17",
      critical: false,
      extnValue: new pkijs.GeneralNames({ names: altNames }).toSchema().toBER(false),
    }),
    new pkijs.Extension({
      extnID: "2.5.29.19",
      critical: true,
      extnValue: new pkijs.BasicConstraints({ cA: false }).toSchema().toBER(false),
    }),
    new pkijs.Extension({
      extnID: "2.5.29.37",
      critical: false,
      extnValue: new pkijs.ExtKeyUsage({ keyPurposes: ["1.3.6.1.5.5.7.3.1"] }).toSchema()
        .toBER(false),
    }),
  ];
  await cert.subjectPublicKeyInfo.importKey(keys.publicKey);
  await cert.sign(keys.privateKey, "SHA-256");

  const pkcs8 = await crypto.subtle.exportKey("pkcs8", keys.privateKey);
  return {
    certPem: pem("CERTIFICATE", cert.toSchema(true).toBER(false)),
    keyPem: pem("PRIVATE KEY", pkcs8),
  };
}
