// Splitting text into tokens and joining tokens back into text: twin of textgen_export/contract/tokens.py.

export const META_TOKEN = "<s>";

// textgenrnn spaces these out at word level so punctuation becomes its own token.
export const WORD_PUNCTUATION = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~' + "\n\t'‘’“”–—…";
const PUNCT = new Set(WORD_PUNCTUATION);
// When joining words, these stick to the token before them ...
const ATTACH_LEFT = new Set("!%),.:;?@]_}\n\t'’”…");
// ... and these to the token after them.
const ATTACH_RIGHT = new Set("$([_\n\t'‘“");

// Word level lower-cases exactly the code points Unicode 14.0 lower-cases (Python 3.11's str.lower), in every
// runtime: a newer Unicode (this engine's) lower-cases more, e.g. U+A7CB, which would change the tokens and so the
// seeded text.  Runs "START[+COUNT[.STEP]]" (START hex, COUNT and STEP decimal): the same string as LOWERED in
// textgen_export/contract/tokens.py.
export const LOWERED = [
  "41+26,c0+23,d8+7,100+28.2,139+8.2,14a+24.2,179+3.2,181+2,184+2.2,187+2.2,18a+2,18e+4,193+2,",
  "196+3,19c+2,19f+2,1a2+3.2,1a7+2.2,1ac+2.2,1af+2.2,1b2+2,1b5+2.2,1b8,1bc,1c4+2,1c7+2,1ca+2,",
  "1cd+8.2,1de+9.2,1f1+2,1f4+2.2,1f7+2,1fa+29.2,23a+2,23d+2,241+2.2,244+3,248+4.2,370+2.2,376,37f,",
  "386+2.2,389+2,38c+2.2,38f+2.2,392+16,3a3+9,3cf,3d8+12.2,3f4,3f7+2.2,3fa,3fd+51,460+17.2,",
  "48a+28.2,4c1+7.2,4d0+48.2,531+38,10a0+38,10c7,10cd,13a0+86,1c90+43,1cbd+3,1e00+75.2,1e9e+49.2,",
  "1f08+8,1f18+6,1f28+8,1f38+8,1f48+6,1f59+4.2,1f68+8,1f88+8,1f98+8,1fa8+8,1fb8+5,1fc8+5,1fd8+4,",
  "1fe8+5,1ff8+5,2126,212a+2,2132,2160+16,2183,24b6+26,2c00+48,2c60+2.2,2c63+2,2c67+4.2,2c6e+3,",
  "2c72,2c75,2c7e+3,2c82+49.2,2ceb+2.2,2cf2,a640+23.2,a680+14.2,a722+7.2,a732+31.2,a779+3.2,",
  "a77e+5.2,a78b+2.2,a790+2.2,a796+11.2,a7ab+4,a7b0+5,a7b6+8.2,a7c5+3,a7c9,a7d0,a7d6+2.2,a7f5,",
  "ff21+26,10400+40,104b0+36,10570+11,1057c+15,1058c+7,10594+2,10c80+51,118a0+32,16e40+32,1e900+34",
].join("");

/** The code points a LOWERED-style run list names. */
export function codePoints(runs) {
  const found = new Set();
  for (const run of runs.split(",")) {
    const [start, rest = ""] = run.split("+");
    const [count = "1", step = "1"] = rest ? rest.split(".") : [];
    for (let i = 0; i < Number(count); i++) found.add(parseInt(start, 16) + i * Number(step));
  }
  return found;
}

const LOWERED_SET = codePoints(LOWERED);
const CASED = /\p{Changes_When_Lowercased}/gu;

/** toLowerCase() as Unicode 14.0 has it: code points outside LOWERED stay as they are, and the text on either side
 * of one is lower-cased on its own (twin of `lower` in tokens.py). */
export function lower(text) {
  let out = "";
  let start = 0;
  for (const match of text.matchAll(CASED)) {
    if (LOWERED_SET.has(match[0].codePointAt(0))) continue;
    out += text.slice(start, match.index).toLowerCase() + match[0];
    start = match.index + match[0].length;
  }
  return out + text.slice(start).toLowerCase();
}

/** Lower-case (pinned: `lower`), space out punctuation, split on spaces (only " ", as Python's re.split(" +")). */
export function wordTokens(text) {
  let spaced = "";
  for (const ch of lower(text)) spaced += PUNCT.has(ch) ? ` ${ch} ` : ch;
  return spaced.split(/ +/).filter((t) => t.length > 0);
}

/** Char level splits into code points (Python's list(str)), not UTF-16 units. */
export function tokenize(text, wordLevel) {
  return wordLevel ? wordTokens(text) : Array.from(text);
}

/** Joins tokens one at a time, so streamed pieces concatenate to exactly detokenize(tokens). */
export class Detokenizer {
  constructor(wordLevel) {
    this.wordLevel = wordLevel;
    this.glueNext = true; // no space before the first token
    this.quoteOpen = false; // straight double quotes alternate: opening ones glue right, closing ones left
  }

  push(tok) {
    if (!this.wordLevel) return tok;
    const isQuote = tok === '"';
    const attachLeft = ATTACH_LEFT.has(tok) || (isQuote && this.quoteOpen);
    const piece = this.glueNext || attachLeft ? tok : " " + tok;
    this.glueNext = ATTACH_RIGHT.has(tok) || (isQuote && !this.quoteOpen);
    if (isQuote) this.quoteOpen = !this.quoteOpen;
    return piece;
  }
}

/** Join generated tokens; at word level re-attach punctuation to its neighbours. */
export function detokenize(tokens, wordLevel) {
  if (!wordLevel) return tokens.join("");
  const joiner = new Detokenizer(wordLevel);
  return tokens.map((t) => joiner.push(t)).join("");
}
