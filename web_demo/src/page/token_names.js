// How the page shows a token a reader could not otherwise see: whitespace as a symbol (␣ ↵ ⇥), and tokens made
// only of invisible characters (joiners, variation selectors, direction marks, format controls) by name, so an
// interactive choice is never a blank button and a bidi control never reorders the text around it.

// One table: the symbol or short name shown, and the words read out (title, aria-label, the readouts).
export const TOKEN_NAMES = new Map([
  [" ", ["␣", "space"]],
  ["\n", ["↵", "line break"]],
  ["\t", ["⇥", "tab"]],
  ["\u00a0", ["⍽", "no-break space"]],
  ["\u00ad", ["SHY", "soft hyphen"]],
  ["\u034f", ["CGJ", "combining grapheme joiner"]],
  ["\u061c", ["ALM", "Arabic letter mark"]],
  ["\u180e", ["MVS", "Mongolian vowel separator"]],
  ["\u200b", ["ZWSP", "zero width space"]],
  ["\u200c", ["ZWNJ", "zero width non-joiner"]],
  ["\u200d", ["ZWJ", "zero width joiner"]],
  ["\u200e", ["LRM", "left-to-right mark"]],
  ["\u200f", ["RLM", "right-to-left mark"]],
  ["\u202a", ["LRE", "left-to-right embedding"]],
  ["\u202b", ["RLE", "right-to-left embedding"]],
  ["\u202c", ["PDF", "pop directional formatting"]],
  ["\u202d", ["LRO", "left-to-right override"]],
  ["\u202e", ["RLO", "right-to-left override"]],
  ["\u2060", ["WJ", "word joiner"]],
  ["\u2066", ["LRI", "left-to-right isolate"]],
  ["\u2067", ["RLI", "right-to-left isolate"]],
  ["\u2068", ["FSI", "first strong isolate"]],
  ["\u2069", ["PDI", "pop directional isolate"]],
  ["\u3000", ["⎵", "ideographic space"]],
  ["\ufe0e", ["VS15", "variation selector-15 (text style)"]],
  ["\ufe0f", ["VS16", "variation selector-16 (emoji style)"]],
  ["\ufeff", ["BOM", "zero width no-break space (byte order mark)"]],
]);

// Characters that draw nothing on their own: format controls, variation selectors, combining marks with no base,
// separators other than a plain space, and controls.
const INVISIBLE = /^[\p{Cf}\p{Cc}\p{Z}\p{Mn}\p{Me}\u{FE00}-\u{FE0F}\u{E0100}-\u{E01EF}\u115F\u1160\u3164\uFFA0]+$/u;

const codePoint = (ch) => `U+${ch.codePointAt(0).toString(16).toUpperCase().padStart(4, "0")}`;

/** The name of each character of an invisible token, or null when the token shows itself. */
function invisibleParts(token) {
  if (typeof token !== "string" || token === "" || !INVISIBLE.test(token)) return null;
  return Array.from(token, (ch) => TOKEN_NAMES.get(ch) ?? [codePoint(ch), codePoint(ch)]);
}

/** What the page draws for a token: a symbol or ⟨NAME⟩ for what cannot be seen, else the token itself. */
export function tokenLabel(token) {
  const named = TOKEN_NAMES.get(token);
  if (named && named[0].length === 1) return named[0];
  const parts = invisibleParts(token);
  return parts ? `⟨${parts.map(([short]) => short).join(" ")}⟩` : token;
}

/** Words for a token (title, aria-label, readouts), e.g. "␣ (space)", "⟨ZWJ⟩ (zero width joiner)". */
export function tokenWords(token) {
  const parts = invisibleParts(token);
  if (!parts) return `“${token}”`;
  return `${tokenLabel(token)} (${parts.map(([, words]) => words).join(", ")})`;
}
