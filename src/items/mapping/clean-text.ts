/**
 * `clean(s)` of IMRT-ITEMS.md §3.6.1: the text a keyword row stores for an HTML fragment of
 * item.json. The replaced service protected MathML, parsed the rest with jsoup and kept jsoup's
 * `text()`; keyword search (ISS, §5.5) matches regular expressions against exactly that text, so
 * the rules below follow jsoup 1.16.1 (the version the specification was checked with) step by step.
 *
 * HTML parser: parse5 (8.1.1). It builds the tree the way the WHATWG HTML specification says, as
 * jsoup's HTML5 tree builder does (implied end tags, `</br>`, entities with and without `;`,
 * raw-text elements), so block boundaries and decoded characters match what the replaced service
 * stored. It is pure ESM with one dependency (entities), maintained, and works under Bun and in a
 * `bun build --compile` binary (clean-text.test.ts and the build check it). The text walk itself
 * is ours: parse5 has no `text()`, and jsoup's rules for spaces between blocks are specific.
 */

import { type DefaultTreeAdapterTypes, parse } from "parse5";

type Node = DefaultTreeAdapterTypes.Node;
type Element = DefaultTreeAdapterTypes.Element;

/** §3.6.1 steps 1–5. */
export function clean(s: string): string {
  const { text, fragments } = protectMathMl(s);
  let cleaned = htmlText(text); // step 2
  cleaned = cleaned.replaceAll("\u00a0", " "); // step 3
  cleaned = collapseAsciiWhitespace(javaTrim(cleaned)); // step 4
  for (const [token, fragment] of fragments) {
    // split/join rather than replace(): a fragment may hold `$&` and must come back byte for byte.
    cleaned = cleaned.split(token).join(fragment); // step 5
  }
  return cleaned;
}

const MATH_OPEN = "<math xmlns=";
const MATH_CLOSE = "</math>";

/**
 * Step 1, the replaced service's `<math xmlns=.*?</math>` with Java's `.`: a fragment starts with
 * that exact literal, ends at the first `</math>` after it, and holds no line terminator (Java's
 * set: LF, CR, U+0085, U+2028, U+2029); a start whose fragment would cross one is not protected.
 * Each fragment becomes a token of letters, digits, `[`, `]` and `-` that HTML parsing leaves alone.
 */
export function protectMathMl(s: string): { text: string; fragments: Map<string, string> } {
  const fragments = new Map<string, string>();
  let text = "";
  let copied = 0;
  let scan = 0;
  for (;;) {
    const start = s.indexOf(MATH_OPEN, scan);
    if (start < 0) break;
    const close = s.indexOf(MATH_CLOSE, start + MATH_OPEN.length);
    if (close < 0) break; // no later start can find a close either
    const end = close + MATH_CLOSE.length;
    if (hasLineTerminator(s, start, end)) {
      scan = start + 1;
      continue;
    }
    const token = `[${crypto.randomUUID()}]`;
    fragments.set(token, s.slice(start, end));
    text += s.slice(copied, start) + token;
    copied = end;
    scan = end;
  }
  return { text: text + s.slice(copied), fragments };
}

function hasLineTerminator(s: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x0a || c === 0x0d || c === 0x85 || c === 0x2028 || c === 0x2029) return true;
  }
  return false;
}

// jsoup 1.16.1 Tag: block tags and inline tags.
const BLOCK_TAGS = tagSet(`
  html head body frameset script noscript style meta link title frame noframes section nav aside
  hgroup header footer p h1 h2 h3 h4 h5 h6 ul ol pre div blockquote hr address figure figcaption
  form fieldset ins del dl dt dd li table caption thead tfoot tbody colgroup col tr th td video
  audio canvas details menu plaintext template article main svg math center dir applet marquee listing
`);
const INLINE_TAGS = tagSet(`
  object base font tt i b u big small em strong dfn code samp kbd var cite abbr time acronym mark
  ruby rt rp rtc a img br wbr map q sub sup bdo iframe embed span input select textarea label
  button optgroup option legend datalist keygen output progress meter area param source track
  summary command device basefont bgsound menuitem data bdi s strike nobr rb
`);
const PRESERVE_WHITESPACE_TAGS = new Set(["pre", "plaintext", "title", "textarea"]);
// jsoup keeps the content of these as data, not text: text() leaves it out.
const DATA_TAGS = new Set(["script", "style"]);

const isBlock = (name: string): boolean => BLOCK_TAGS.has(name);
// An unknown tag is inline but keeps jsoup's default formatAsBlock = true. (jsoup also formats some
// block tags inline; for text() that changes nothing, as a block adds its own space on entry.)
const formatAsBlock = (name: string): boolean => !INLINE_TAGS.has(name);

function tagSet(names: string): Set<string> {
  return new Set(names.trim().split(/\s+/));
}

function nameOf(node: Node): string | null {
  return "tagName" in node ? node.tagName.toLowerCase() : null;
}

function childrenOf(node: Node): Node[] {
  // jsoup keeps a <template>'s children in the tree; parse5 moves them into `content`.
  if ("content" in node && node.nodeName === "template") return node.content.childNodes;
  return "childNodes" in node ? node.childNodes : [];
}

/**
 * Step 2, jsoup's Element.text() over the whole parsed document: text nodes with whitespace runs
 * collapsed (no-break space counted as whitespace, zero-width space and soft hyphen dropped), one
 * space before a block or `<br>` and after a block followed by text or an inline element, no
 * collapsing inside pre/textarea/title/plaintext, script and style left out, the result trimmed.
 * Iterative, so deeply nested input cannot exhaust the stack.
 */
export function htmlText(html: string): string {
  // scriptingEnabled false: <noscript> content is markup, as jsoup reads it.
  const document = parse(html, { scriptingEnabled: false });
  let out = "";
  const endsWithSpace = () => out.endsWith(" ");
  type Visit = { node: Node; next: Node | undefined; leaving: boolean };
  const stack: Visit[] = [{ node: document, next: undefined, leaving: false }];
  for (let visit = stack.pop(); visit !== undefined; visit = stack.pop()) {
    const { node, next, leaving } = visit;
    const name = nameOf(node);
    if (leaving) {
      if (name !== null && isBlock(name) && next !== undefined && !endsWithSpace()) {
        const nextName = nameOf(next);
        const nextIsText = next.nodeName === "#text";
        if (nextIsText || (nextName !== null && !formatAsBlock(nextName))) out += " ";
      }
      continue;
    }
    if (node.nodeName === "#text" && "value" in node) {
      const parent = node.parentNode;
      const parentName = parent ? nameOf(parent) : null;
      if (parentName !== null && DATA_TAGS.has(parentName)) continue;
      out = preservesWhitespace(parent) ? out + node.value : appendNormalised(out, node.value);
      continue;
    }
    if (name !== null && out.length > 0 && (isBlock(name) || name === "br") && !endsWithSpace()) out += " ";
    stack.push({ node, next, leaving: true });
    const children = childrenOf(node);
    for (let i = children.length - 1; i >= 0; i--) {
      const child = children[i];
      if (child !== undefined) stack.push({ node: child, next: children[i + 1], leaving: false });
    }
  }
  return javaTrim(out);
}

/** jsoup looks at the text's element and five levels above it. */
function preservesWhitespace(parent: DefaultTreeAdapterTypes.ParentNode | null): boolean {
  let node: Node | null = parent;
  for (let level = 0; level < 6 && node !== null; level++) {
    const name = nameOf(node);
    if (name === null) return false;
    if (PRESERVE_WHITESPACE_TAGS.has(name)) return true;
    node = (node as Element).parentNode;
  }
  return false;
}

const isActuallyWhitespace = (c: string): boolean =>
  c === " " || c === "\t" || c === "\n" || c === "\f" || c === "\r" || c === "\u00a0";
const isInvisible = (c: string): boolean => c === "\u200b" || c === "\u00ad";

/** jsoup StringUtil.appendNormalisedWhitespace, stripping leading whitespace when `out` ends in one. */
function appendNormalised(out: string, text: string): string {
  const stripLeading = out.endsWith(" ");
  let result = out;
  let lastWasWhite = false;
  let reachedNonWhite = false;
  for (const c of text) {
    if (isActuallyWhitespace(c)) {
      if ((stripLeading && !reachedNonWhite) || lastWasWhite) continue;
      result += " ";
      lastWasWhite = true;
    } else if (!isInvisible(c)) {
      result += c;
      lastWasWhite = false;
      reachedNonWhite = true;
    }
  }
  return result;
}

/** Java's String.trim(): every char up to U+0020 off both ends. */
function javaTrim(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && s.charCodeAt(start) <= 0x20) start++;
  while (end > start && s.charCodeAt(end - 1) <= 0x20) end--;
  return s.slice(start, end);
}

/** Step 4's collapse: each run of space, tab, CR, LF, FF or VT becomes one space (Java's `\s+`). */
function collapseAsciiWhitespace(s: string): string {
  let out = "";
  let inRun = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const white = c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x0c || c === 0x0b;
    if (white) {
      if (!inRun) out += " ";
      inRun = true;
    } else {
      out += s.charAt(i);
      inRun = false;
    }
  }
  return out;
}
