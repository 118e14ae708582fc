// The model run in the page itself, with no server: what make_page.py's page loads
// after onnxruntime-web (ort), the tokenizer (tokenizer.js), the model (model.js:
// PAGE_MODEL) and onnxruntime's WebAssembly (runtime.js: ONNXRUNTIME_WASM). It answers
// as serve.py's :explain does (common/scoring.py's explained_records): the label, every
// label's probability and each word's contribution, and "unsure" below the threshold
// the model was saved with.
"use strict";

(function () {
  const ROWS_PER_RUN = 256;  // texts and their variants scored in one call of the model
  const tokenizer = new SentimentTokenizer(PAGE_MODEL.tokenizer);
  const labels = PAGE_MODEL.tokenizer.labels;

  function bytes(base64) {
    const text = atob(base64);
    const result = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) result[i] = text.charCodeAt(i);
    return result;
  }

  // Everything comes from this page's own scripts, never a request: a page opened from
  // disk may not fetch its neighbours. One thread: more need a cross-origin isolated page.
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.wasmBinary = bytes(ONNXRUNTIME_WASM.binary);
  ort.env.wasm.wasmPaths = {
    mjs: URL.createObjectURL(new Blob([ONNXRUNTIME_WASM.glue], { type: "text/javascript" })),
  };
  const session = ort.InferenceSession.create(bytes(PAGE_MODEL.onnx));
  let queue = Promise.resolve();  // one run of the model at a time

  // The model's outputs for rows of ids: an array per row (one probability for two
  // labels, one per label for more).
  async function outputs(rows) {
    const model = await session;
    const width = tokenizer.maxlen;
    const result = [];
    for (let first = 0; first < rows.length; first += ROWS_PER_RUN) {
      const part = rows.slice(first, first + ROWS_PER_RUN);
      const ids = new Int32Array(part.length * width);
      part.forEach((row, i) => ids.set(row, i * width));
      const feeds = { [model.inputNames[0]]: new ort.Tensor("int32", ids, [part.length, width]) };
      const output = (await model.run(feeds))[model.outputNames[0]];
      const units = output.dims[1];
      for (let i = 0; i < part.length; i++) {
        result.push(Array.from(output.data.subarray(i * units, (i + 1) * units)));
      }
    }
    return result;
  }

  // Every label's probability: with two, the model gives P(positive) p, and (1 - p, p).
  const probabilities = (output) => (output.length === 1 ? [1 - output[0], output[0]] : output);

  async function explain(text) {
    const words = tokenizer.words(text);
    if (!words.length) {
      throw new Error("This text has no words the model can read: it reads only letters " +
                      "and digits, of any script.");
    }
    const whole = tokenizer.idsOfWords(words);
    // Each word replaced by padding (0), one variant per word; a word cut off at the
    // front (beyond maxlen) has none, and no contribution.
    const first = tokenizer.maxlen - words.length;  // where word 0 is, after the start id
    const rows = [whole];
    const measured = [];
    for (let i = Math.max(0, -first); i < words.length; i++) {
      const variant = whole.slice();
      variant[first + i] = 0;
      rows.push(variant);
      measured.push(i);
    }
    const run = queue.then(() => outputs(rows));
    queue = run.catch(() => {});
    const [own, ...others] = await run;
    const every = probabilities(own);
    const chosen = own.length === 1 ? (own[0] >= 0.5 ? 1 : 0) : every.indexOf(Math.max(...every));
    // Towards the positive label with two labels, else towards the label predicted.
    const column = own.length === 1 ? 0 : chosen;
    const record = own.length === 1
      ? { probability_positive: own[0], label: labels[chosen] }
      : { label: labels[chosen], probability: every[chosen] };
    record.probabilities = Object.fromEntries(labels.map((name, i) => [name, every[i]]));
    record.text = text;
    record.explains = own.length === 1 ? labels[1] : labels[chosen];
    record.words = words.map((word) => [word, null]);
    measured.forEach((i, n) => { record.words[i][1] = own[column] - others[n][column]; });
    const threshold = PAGE_MODEL.min_confidence;
    if (threshold !== null) {
      record.abstained = Math.max(...every) < threshold;
      if (record.abstained) record.label = null;
    }
    return record;
  }

  window.explainHere = explain;
  // For programs that drive the page (benchmarks/portable.py): the model's outputs for
  // rows of ids, and when it was ready (milliseconds from the page's start).
  window.scoreHere = outputs;
  window.modelReady = session.then(() => performance.now());
})();
