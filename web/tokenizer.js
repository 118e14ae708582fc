// The word ids a model of this project reads, from a text, in JavaScript: the same ids,
// to the last one, as the Python tokenizer (common/data.py) gives. It follows the
// tokenizer.json saved in every version (common/export.py's tokenizer_spec), so it
// needs nothing of this project's Python. In a page: <script src="tokenizer.js">, then
// `new SentimentTokenizer(spec)`; in Node.js: require("./tokenizer.js").
"use strict";

const TOKENIZER_FORMAT = "imdb-sentiment-tokenizer/1";

class SentimentTokenizer {
  constructor(spec) {
    if (!spec || spec.format !== TOKENIZER_FORMAT) {
      throw new Error(`not a tokenizer file of format ${TOKENIZER_FORMAT}`);
    }
    this.maxlen = spec.maxlen;
    this.start = spec.start;
    this.oov = spec.oov;
    this.labels = spec.labels;
    this.lineBreak = new RegExp(spec.line_break, "g");
    this.apostrophe = spec.typographic_apostrophe;
    // Lowercasing is a table of code points, never toLowerCase: JavaScript's Unicode
    // tables are not Python's, and only these capitals are lowercased there.
    this.lowercase = new Map();
    for (const [first, last] of spec.uppercase) {
      for (let c = first; c <= last; c++) this.lowercase.set(c, c + 32);
    }
    const letter = spec.word_characters
      .map(([first, last]) => `\\u{${first.toString(16)}}-\\u{${last.toString(16)}}`)
      .join("");
    // "u": code points, as Python's re reads a str, not UTF-16 halves.
    this.word = new RegExp(`[${letter}]+(?:'[${letter}]+)*`, "gu");
    // A Map, not the parsed object: a word such as "constructor" must not find
    // Object's own properties.
    this.vocabulary = new Map(Object.entries(spec.vocabulary));
  }

  /** The text's words, as common.data.tokenize splits it. */
  words(text) {
    let lowered = "";
    for (const character of text.replace(this.lineBreak, " ")) {
      const code = character.codePointAt(0);
      lowered += this.lowercase.has(code) ? String.fromCodePoint(this.lowercase.get(code)) : character;
    }
    return lowered.replaceAll(this.apostrophe, "'").match(this.word) || [];
  }

  /** The maxlen ids the model reads for these words: start, each word's id (oov for a
   *  word outside the vocabulary), padded with 0 or cut at the front. */
  idsOfWords(words) {
    const ids = [this.start, ...words.map((word) => this.vocabulary.get(word) ?? this.oov)];
    const kept = ids.slice(Math.max(0, ids.length - this.maxlen));
    const row = new Int32Array(this.maxlen);  // zeros: the padding
    row.set(kept, this.maxlen - kept.length);
    return row;
  }

  /** The ids of one text (Int32Array of maxlen). */
  ids(text) {
    return this.idsOfWords(this.words(text));
  }
}

if (typeof module !== "undefined") module.exports = { SentimentTokenizer, TOKENIZER_FORMAT };
