/** The small part of dcmjs we use, typed once (dcmjs ships no types). */
import dcmjs from "dcmjs";

// deno-lint-ignore no-explicit-any
type Any = any;

interface DcmjsData {
  DicomDict: new (meta: Record<string, unknown>) => {
    dict: Record<string, unknown>;
    write(options?: Record<string, unknown>): ArrayBuffer;
  };
  DicomMessage: {
    readFile(buffer: ArrayBuffer, options?: Record<string, unknown>): {
      meta: Record<string, unknown>;
      dict: Record<string, unknown>;
    };
  };
  DicomMetaDictionary: {
    denaturalizeDataset(dataset: Record<string, unknown>): Record<string, unknown>;
    naturalizeDataset(dict: Record<string, unknown>): Record<string, Any>;
  };
}

export const dcmjsData: DcmjsData = (dcmjs as Any).data;

/** Our DICOM Implementation Class UID (PS3.7 D.3.3.2), under the UUID arc 2.25. */
export const IMPLEMENTATION_CLASS_UID = "2.25.259847816572269049907817373678182847214";
export const IMPLEMENTATION_VERSION_NAME = "BEELDPOORT_1";
