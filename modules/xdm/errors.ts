import { BeeldpoortError } from "../core/mod.ts";

/**
 * Errors raised while reading an XDM package. Each refusal has its own class and stable `code` so
 * the relay can answer the sender with a precise reason (ITI-32 §3.32.4.1.3: the importer must show
 * media faults and hash/size mismatches) and tests can assert the exact cause.
 */

/** A zip entry path leaves the package root (`..` component): Zip Slip. */
export class XdmPathTraversal extends BeeldpoortError {
  readonly code = "XDM_PATH_TRAVERSAL";
  constructor(readonly entryName: string) {
    super(`zip entry "${entryName}" escapes the package root (..)`);
  }
}

/** A zip entry path is absolute (leading slash, backslash or drive letter). */
export class XdmAbsolutePath extends BeeldpoortError {
  readonly code = "XDM_ABSOLUTE_PATH";
  constructor(readonly entryName: string) {
    super(`zip entry "${entryName}" has an absolute path`);
  }
}

/** A zip entry is a symbolic link (unix mode in the external attributes). */
export class XdmSymlinkEntry extends BeeldpoortError {
  readonly code = "XDM_SYMLINK_ENTRY";
  constructor(readonly entryName: string) {
    super(`zip entry "${entryName}" is a symbolic link`);
  }
}

/** Two zip entries have the same name (compared case-insensitively, as XDM names are). */
export class XdmDuplicateEntry extends BeeldpoortError {
  readonly code = "XDM_DUPLICATE_ENTRY";
  constructor(readonly entryName: string) {
    super(`zip entry "${entryName}" occurs more than once`);
  }
}

/** An entry (or the whole package) inflates beyond the configured limits: a zip bomb. */
export class XdmZipBomb extends BeeldpoortError {
  readonly code = "XDM_ZIP_BOMB";
  constructor(readonly entryName: string, detail: string) {
    super(`zip entry "${entryName}" exceeds the inflation limits: ${detail}`);
  }
}

/** The file is not a zip archive we can read (no end of central directory, bad headers). */
export class XdmBadZip extends BeeldpoortError {
  readonly code = "XDM_BAD_ZIP";
}

/** No `IHE_XDM/<subset>/METADATA.XML` in the package (ITI-32 §3.32.4.1.2.1). */
export class XdmMissingMetadata extends BeeldpoortError {
  readonly code = "XDM_MISSING_METADATA";
}

/** METADATA.XML is not well-formed, has the wrong root, or lists a document that is absent. */
export class XdmInvalidMetadata extends BeeldpoortError {
  readonly code = "XDM_INVALID_METADATA";
  constructor(readonly metadataPath: string, detail: string) {
    super(`${metadataPath}: ${detail}`);
  }
}

/** A document's SHA-1 differs from the `hash` slot in METADATA.XML. */
export class XdmHashMismatch extends BeeldpoortError {
  readonly code = "XDM_HASH_MISMATCH";
  constructor(readonly entryName: string, readonly expected: string, readonly actual: string) {
    super(`document "${entryName}": SHA-1 ${actual} differs from METADATA.XML hash ${expected}`);
  }
}

/** A document's byte count differs from the `size` slot in METADATA.XML. */
export class XdmSizeMismatch extends BeeldpoortError {
  readonly code = "XDM_SIZE_MISMATCH";
  constructor(readonly entryName: string, readonly expected: number, readonly actual: number) {
    super(`document "${entryName}": ${actual} bytes, METADATA.XML says ${expected}`);
  }
}

/** The input given to a packer is unusable (no instances, wrong study, a size that lied). */
export class XdmInvalidInput extends BeeldpoortError {
  readonly code = "XDM_INVALID_INPUT";
}
