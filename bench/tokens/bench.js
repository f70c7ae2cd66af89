// The JavaScript baselines of bench/tokens/run.sh (npm tiktoken, its WASM
// build; js-tiktoken and gpt-tokenizer, pure JavaScript), measured as bench.c
// measures ours: texts loaded first, then passes over all of them, the
// fastest pass reported.
//
//	node bench.js ENCODING DOCS.ndjson PASSES OUTDIR
//
// Prints one line per library:
//	NAME ENC docs bytes tokens best_s MB/s Mtok/s
// and writes each text's ids, space-separated, one text a line, to
// OUTDIR/NAME.ids.
"use strict";
const fs = require("fs");
const path = require("path");

const [enc, docsFile, passesArg, outdir] = process.argv.slice(2);
const passes = Number(passesArg);
const texts = fs.readFileSync(docsFile, "utf8").split("\n")
	.filter((l) => l.length > 0).map((l) => JSON.parse(l).query);
const bytes = texts.reduce((s, t) => s + Buffer.byteLength(t, "utf8"), 0);

function run(name, encode) {
	let tokens = 0;
	const times = [];
	for (let p = 0; p <= passes; p++) {	// pass 0 warms up
		const t0 = process.hrtime.bigint();
		tokens = 0;
		for (const t of texts)
			tokens += encode(t).length;
		if (p > 0)
			times.push(Number(process.hrtime.bigint() - t0) / 1e9);
	}
	const m = Math.min(...times);
	console.log([name, enc, texts.length, bytes, tokens, m.toFixed(4),
		(bytes / 1e6 / m).toFixed(2), (tokens / 1e6 / m).toFixed(3)]
		.join(" "));
	const out = texts.map((t) => Array.from(encode(t)).join(" "));
	fs.writeFileSync(path.join(outdir, name + ".ids"), out.join("\n") + "\n");
}

const { get_encoding } = require("tiktoken");
const wasm = get_encoding(enc);
run("tiktoken-wasm", (t) => wasm.encode_ordinary(t));
wasm.free();

const { getEncoding } = require("js-tiktoken");
const js = getEncoding(enc);
run("js-tiktoken", (t) => js.encode(t, [], []));

// gpt-tokenizer as its users call it, with its default merge cache, special
// tokens taken as ordinary text like the two above
const gpt = require("gpt-tokenizer/encoding/" + enc);
const ordinary = { disallowedSpecial: new Set() };
run("gpt-tokenizer", (t) => gpt.encode(t, ordinary));
