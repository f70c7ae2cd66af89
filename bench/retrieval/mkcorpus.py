#!/usr/bin/env python3
"""Make the speed-benchmark corpora from SciFact, outside the repository.

usage: mkcorpus.py SCIFACT_DIR OUTDIR

Writes c1k, c5k and c100k, each as .jsonl (for rk-search) and .tsv
("id<TAB>text" for xapian-bench), plus queries.tsv (the 300 test queries).
c1k is SciFact's first 1,000 documents, c5k all 5,183.  c100k is
synthetic: document i (i < 100,000) joins the first half of the sentences
of SciFact document i mod N with the second half of those of document
(7919 i + 13) mod N, so its length, vocabulary and term statistics follow
SciFact's while no two documents are the same.
"""
import json
import os
import sys

src, out = sys.argv[1], sys.argv[2]
docs = [json.loads(l) for l in open(os.path.join(src, "corpus.jsonl"))]
N = len(docs)


def write(name, items):
    with open(os.path.join(out, name + ".jsonl"), "w") as j, \
            open(os.path.join(out, name + ".tsv"), "w") as t:
        for _id, title, text in items:
            j.write(json.dumps({"_id": _id, "title": title, "text": text})
                    + "\n")
            flat = (title + " " + text).replace("\t", " ").replace("\n", " ")
            t.write(_id + "\t" + flat + "\n")


def plain(d):
    return d["_id"], d["title"], d["text"]


def sentences(text):
    return [s for s in text.replace(". ", ".\x00").split("\x00") if s]


def synth(i):
    a, b = docs[i % N], docs[(7919 * i + 13) % N]
    sa, sb = sentences(a["text"]), sentences(b["text"])
    text = " ".join(sa[:(len(sa) + 1) // 2] + sb[len(sb) // 2:])
    return "s%d" % i, a["title"], text


write("c1k", (plain(d) for d in docs[:1000]))
write("c5k", (plain(d) for d in docs))
write("c100k", (synth(i) for i in range(100000)))
test = set(l.split("\t")[0] for l in
           open(os.path.join(src, "qrels", "test.tsv")).read().splitlines()[1:])
with open(os.path.join(out, "queries.tsv"), "w") as q:
    for l in open(os.path.join(src, "queries.jsonl")):
        o = json.loads(l)
        if o["_id"] in test:
            q.write(o["_id"] + "\t" + o["text"] + "\n")
