/** README.TXT and INDEX.HTM of an XDM medium (ITI TF-2 §3.32.4.1.2.2). */
import { xmlEscape } from "./hl7.ts";

export interface MediaText {
  organizationName: string;
  ura: string;
  email: string;
  product: { name: string; version: string; vendor: string };
  transferId: string;
  partNumber: number;
  partCount: number;
  instancesInPart: number;
  instancesInStudy: number;
  studyDate?: string;
  studyDescription?: string;
  modalities: string[];
  /** Relative paths (from the zip root) and titles of the documents in this part. */
  documents: { path: string; title: string }[];
  createdAt: string;
}

/** README.TXT: creator contact, application, how the medium is organised, part numbering. */
export function readmeText(m: MediaText): string {
  const lines = [
    "IHE XDM medium (ITI-32 Distribute Document Set on Media, ZIP over e-mail)",
    "",
    "Created by",
    `  Organisation: ${m.organizationName}`,
    `  URA:          ${m.ura}`,
    `  Contact:      ${m.email}`,
    "",
    "Creating application",
    `  ${m.product.name} ${m.product.version} (${m.product.vendor})`,
    "",
    "Transfer",
    `  Transfer id:  ${m.transferId}`,
    `  Part:         ${m.partNumber} of ${m.partCount}`,
    `  Images:       ${m.instancesInPart} in this part, ${m.instancesInStudy} in the study`,
    `  Created:      ${m.createdAt}`,
    "",
    "Organisation of this medium",
    "  INDEX.HTM                      overview for people",
    "  IHE_XDM/SUBSET01/METADATA.XML  IHE XDS metadata (ebRS 3.0 SubmitObjectsRequest)",
    "  IHE_XDM/SUBSET01/KOS00001.DCM  DICOM Key Object Selection manifest of the whole study",
    "  IHE_XDM/SUBSET01/IMGnnnnn/     DICOM Part-10 files, one folder per series",
    "  IHE_XDM/SUBSET01/REPORT01.*    the report (part 1 only), NOTE0001.TXT the sender's note",
    "",
    "A study too large for one e-mail travels in several parts. Every part is a complete XDM",
    "medium; the SubmissionSet slots urn:beeldpoort:transferId, urn:beeldpoort:partNumber and",
    "urn:beeldpoort:partCount say which part this is. The manifest in every part lists all images",
    "of the study, so a receiver knows when it holds the whole study.",
    "",
    "This medium contains medical data. No viewer is included; open the DICOM files with a",
    "DICOM viewer or import them into a PACS. Nothing on this medium starts automatically.",
    "",
  ];
  return lines.join("\r\n");
}

/** INDEX.HTM in XHTML Basic 1.1; no patient identifiers (standards.md §1.2: keep PHI minimal). */
export function indexHtml(m: MediaText): string {
  const e = xmlEscape;
  const items = m.documents.map((d) => `   <li><a href="${e(d.path)}">${e(d.title)}</a></li>`)
    .join("\n");
  const study = [m.studyDate, m.studyDescription, m.modalities.join("/")].filter(Boolean)
    .join(" - ");
  return `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML Basic 1.1//EN" "http://www.w3.org/TR/xhtml-basic/xhtml-basic11.dtd">
<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="nl">
 <head>
  <title>${e(m.organizationName)} - medische beelden / medical images</title>
 </head>
 <body>
  <h1>${e(m.organizationName)}</h1>
  <p>Dit bestand bevat medische gegevens. Vertrouwelijk. /
   This file contains medical data. Confidential.</p>
  <p><a href="README.TXT">README.TXT</a></p>
  <h2>Onderzoek / Study</h2>
  <p>${e(study)}</p>
  <p>Deel ${m.partNumber} van ${m.partCount} / part ${m.partNumber} of ${m.partCount};
   ${m.instancesInPart} van ${m.instancesInStudy} beelden / images.</p>
  <h2>Inhoud / Contents</h2>
  <ul>
${items}
  </ul>
 </body>
</html>
`;
}
