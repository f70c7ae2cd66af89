#!/usr/bin/env python3
"""Vaswani's TREC files as rk-search input.

usage: vaswani.py SRC OUT

SRC holds doc-text.trec and query-text.trec; OUT gets vaswani.jsonl
(BEIR documents) and vaswani.tsv (topics, "qid<TAB>text").
"""
import json
import re
import sys


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    src, out = sys.argv[1], sys.argv[2]
    text = open(src + "/doc-text.trec").read()
    with open(out + "/vaswani.jsonl", "w") as f:
        for m in re.finditer(r"<DOCNO>\s*(\S+)\s*</DOCNO>(.*?)</DOC>",
                             text, re.S):
            f.write(json.dumps({"_id": m.group(1),
                                "text": m.group(2).strip()}) + "\n")
    q = open(src + "/query-text.trec").read()
    with open(out + "/vaswani.tsv", "w") as f:
        for m in re.finditer(r"<num>\s*(\S+)\s*</num>\s*<title>(.*?)</title>",
                             q, re.S):
            f.write(m.group(1) + "\t" + " ".join(m.group(2).split()) + "\n")


main()
