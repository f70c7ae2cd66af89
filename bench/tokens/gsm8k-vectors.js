// Expected token counts and ids for t/50-tokens.bats, made by two
// independent JavaScript tokenizers (js-tiktoken and gpt-tokenizer) that
// must agree on every text, so the test checks ours against references and
// never against itself.
//
//	node bench/tokens/gsm8k-vectors.js t/fixtures/gsm8k/test.jsonl OUTDIR
//
// Text of problem N (1-based line): question + "\n\n" + answer.  Writes
// OUTDIR/gsm8k_token_counts.tsv (n, cl100k_base, o200k_base) and
// OUTDIR/gsm8k_first50_token_ids.jsonl ({n, cl100k_base: [...], o200k_base}).
"use strict";
const fs = require("fs");
const path = require("path");
const { getEncoding } = require("js-tiktoken");

const [file, outdir] = process.argv.slice(2);
const texts = fs.readFileSync(file, "utf8").split("\n")
	.filter((l) => l.length > 0)
	.map((l) => { const r = JSON.parse(l); return r.question + "\n\n" + r.answer; });
const ordinary = { disallowedSpecial: new Set() };

function encoder(enc) {
	const js = getEncoding(enc);
	const gpt = require("gpt-tokenizer/encoding/" + enc);
	return (t, n) => {
		const a = js.encode(t, [], []);
		const b = gpt.encode(t, ordinary);
		if (a.join(" ") !== b.join(" "))
			throw new Error(`${enc}: problem ${n}: the references differ`);
		return a;
	};
}

const cl = encoder("cl100k_base"), o = encoder("o200k_base");
const counts = ["n\tcl100k_base\to200k_base"], ids = [];
texts.forEach((t, i) => {
	const a = cl(t, i + 1), b = o(t, i + 1);
	counts.push(`${i + 1}\t${a.length}\t${b.length}`);
	if (i < 50)
		ids.push(JSON.stringify({ n: i + 1, cl100k_base: a, o200k_base: b }));
});
fs.writeFileSync(path.join(outdir, "gsm8k_token_counts.tsv"), counts.join("\n") + "\n");
fs.writeFileSync(path.join(outdir, "gsm8k_first50_token_ids.jsonl"), ids.join("\n") + "\n");
