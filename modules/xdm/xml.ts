/**
 * A small namespace-aware XML parser for METADATA.XML. It reads elements, attributes, text, CDATA
 * and comments and refuses any DOCTYPE, so external entities (XXE) and entity expansion bombs
 * cannot happen (standards.md §1.4 importer checklist item 3).
 */

export interface XmlElement {
  /** Local name, without prefix. */
  name: string;
  /** Namespace URI ("" when none). */
  ns: string;
  /** Attributes by local name (unprefixed) or `prefix:local` for prefixed ones other than xmlns. */
  attrs: Record<string, string>;
  children: XmlElement[];
  text: string;
}

export class XmlSyntaxError extends Error {}

const XML_NS = "http://www.w3.org/XML/1998/namespace";

function decodeEntities(text: string, at: number): string {
  return text.replace(
    /&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);|&/g,
    (whole, ref: string | undefined) => {
      if (!ref) throw new XmlSyntaxError(`bare '&' near offset ${at}`);
      if (ref[0] === "#") {
        const cp = ref[1] === "x" ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
        if (!Number.isFinite(cp) || cp > 0x10ffff) {
          throw new XmlSyntaxError(
            `bad reference ${whole}`,
          );
        }
        return String.fromCodePoint(cp);
      }
      const named: Record<string, string> = { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" };
      if (!(ref in named)) throw new XmlSyntaxError(`undeclared entity ${whole}`);
      return named[ref];
    },
  );
}

interface OpenElement {
  qname: string;
  element: XmlElement;
  scope: Map<string, string>;
}

/** Parses a whole document and returns its root element. Throws XmlSyntaxError when not well-formed. */
export function parseXml(source: string): XmlElement {
  let pos = source.charCodeAt(0) === 0xfeff ? 1 : 0;
  const stack: OpenElement[] = [];
  let root: XmlElement | null = null;
  const rootScope = new Map<string, string>([["xml", XML_NS], ["", ""]]);
  const len = source.length;

  const appendText = (text: string) => {
    if (stack.length === 0) {
      if (text.trim() !== "") throw new XmlSyntaxError(`text outside the root element at ${pos}`);
      return;
    }
    stack[stack.length - 1].element.text += text;
  };

  while (pos < len) {
    const lt = source.indexOf("<", pos);
    if (lt === -1) {
      appendText(decodeEntities(source.slice(pos), pos));
      break;
    }
    if (lt > pos) appendText(decodeEntities(source.slice(pos, lt), pos));
    pos = lt;
    if (source.startsWith("<?", pos)) {
      const end = source.indexOf("?>", pos);
      if (end === -1) throw new XmlSyntaxError("unterminated processing instruction");
      pos = end + 2;
    } else if (source.startsWith("<!--", pos)) {
      const end = source.indexOf("-->", pos);
      if (end === -1) throw new XmlSyntaxError("unterminated comment");
      pos = end + 3;
    } else if (source.startsWith("<![CDATA[", pos)) {
      const end = source.indexOf("]]>", pos);
      if (end === -1) throw new XmlSyntaxError("unterminated CDATA section");
      appendText(source.slice(pos + 9, end));
      pos = end + 3;
    } else if (source.startsWith("<!", pos)) {
      throw new XmlSyntaxError("DOCTYPE and entity declarations are refused");
    } else if (source.startsWith("</", pos)) {
      const end = source.indexOf(">", pos);
      if (end === -1) throw new XmlSyntaxError("unterminated end tag");
      const qname = source.slice(pos + 2, end).trim();
      const open = stack.pop();
      if (!open || open.qname !== qname) {
        throw new XmlSyntaxError(`end tag </${qname}> does not match <${open?.qname ?? ""}>`);
      }
      pos = end + 1;
    } else {
      // start tag
      const tagRe = /<([A-Za-z_][\w.\-]*(?::[A-Za-z_][\w.\-]*)?)/y;
      tagRe.lastIndex = pos;
      const m = tagRe.exec(source);
      if (!m) throw new XmlSyntaxError(`bad start tag at ${pos}`);
      const qname = m[1];
      pos = tagRe.lastIndex;
      const rawAttrs: [string, string][] = [];
      const attrRe = /\s+([A-Za-z_][\w.\-]*(?::[A-Za-z_][\w.\-]*)?)\s*=\s*("([^"<]*)"|'([^'<]*)')/y;
      let selfClosing = false;
      for (;;) {
        attrRe.lastIndex = pos;
        const a = attrRe.exec(source);
        if (a) {
          rawAttrs.push([a[1], decodeEntities(a[3] ?? a[4] ?? "", pos)]);
          pos = attrRe.lastIndex;
          continue;
        }
        const close = /\s*(\/?)>/y;
        close.lastIndex = pos;
        const c = close.exec(source);
        if (!c) throw new XmlSyntaxError(`bad attribute syntax in <${qname}> at ${pos}`);
        selfClosing = c[1] === "/";
        pos = close.lastIndex;
        break;
      }
      const parentScope = stack.length ? stack[stack.length - 1].scope : rootScope;
      let scope = parentScope;
      const seen = new Set<string>();
      for (const [name, value] of rawAttrs) {
        if (seen.has(name)) throw new XmlSyntaxError(`duplicate attribute ${name} in <${qname}>`);
        seen.add(name);
        if (name === "xmlns" || name.startsWith("xmlns:")) {
          if (scope === parentScope) scope = new Map(parentScope);
          scope.set(name === "xmlns" ? "" : name.slice(6), value);
        }
      }
      const [prefix, local] = qname.includes(":") ? qname.split(":") : ["", qname];
      const ns = scope.get(prefix);
      if (ns === undefined) throw new XmlSyntaxError(`undeclared namespace prefix ${prefix}`);
      const attrs: Record<string, string> = {};
      for (const [name, value] of rawAttrs) {
        if (name === "xmlns" || name.startsWith("xmlns:")) continue;
        attrs[name] = value;
      }
      const element: XmlElement = { name: local, ns, attrs, children: [], text: "" };
      if (stack.length) stack[stack.length - 1].element.children.push(element);
      else if (root) throw new XmlSyntaxError("more than one root element");
      else root = element;
      if (!selfClosing) stack.push({ qname, element, scope });
    }
  }
  if (stack.length) throw new XmlSyntaxError(`unclosed element <${stack[stack.length - 1].qname}>`);
  if (!root) throw new XmlSyntaxError("no root element");
  return root;
}

/** Children of `el` with local name `name` (any namespace unless `ns` given). */
export function childrenNamed(el: XmlElement, name: string, ns?: string): XmlElement[] {
  return el.children.filter((c) => c.name === name && (ns === undefined || c.ns === ns));
}

export function firstChild(el: XmlElement, name: string, ns?: string): XmlElement | undefined {
  return el.children.find((c) => c.name === name && (ns === undefined || c.ns === ns));
}
