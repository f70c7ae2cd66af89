#!/usr/bin/env python3
"""Score a TREC run against qrels the way trec_eval -c does.

usage: trec_score.py QRELS RUN [METRIC ...]

QRELS is TREC ("qid 0 doc rel") or BEIR TSV ("query-id corpus-id score",
header line, CRLF allowed).  RUN is "qid Q0 doc rank score tag".
Metrics: ndcg_cut.10 recall.100 recall.1000 map P.10 (default: ndcg_cut.10
recall.100 map).  Conventions of trec_eval: the run is re-sorted by score
descending, ties by document id descending; only queries with a relevant
document are scored; a scored query missing from the run counts as 0 (-c);
nDCG uses gain = relevance and log2(rank + 1) discounts.
"""
import math
import sys


def read_qrels(path):
    q = {}
    with open(path, newline=None) as f:
        for line in f:
            p = line.split()
            if len(p) == 4:
                qid, _, doc, rel = p
            elif len(p) == 3:
                qid, doc, rel = p
            else:
                continue
            try:
                rel = int(rel)
            except ValueError:
                continue        # the BEIR header
            q.setdefault(qid, {})[doc] = rel
    return q


def read_run(path):
    r = {}
    with open(path) as f:
        for line in f:
            p = line.split()
            if len(p) != 6:
                continue
            qid, _, doc, _, score, _ = p
            r.setdefault(qid, []).append((float(score), doc))
    for qid in r:
        r[qid].sort(key=lambda x: (x[0], x[1]), reverse=True)
        r[qid] = [d for _, d in r[qid]]
    return r


def ndcg(ranked, rels, k):
    dcg = sum(rels.get(d, 0) / math.log2(i + 2)
              for i, d in enumerate(ranked[:k]) if rels.get(d, 0) > 0)
    ideal = sorted((v for v in rels.values() if v > 0), reverse=True)[:k]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg > 0 else 0.0


def recall(ranked, rels, k):
    nrel = sum(1 for v in rels.values() if v > 0)
    return sum(1 for d in ranked[:k] if rels.get(d, 0) > 0) / nrel


def ap(ranked, rels):
    nrel = sum(1 for v in rels.values() if v > 0)
    hit = s = 0
    for i, d in enumerate(ranked):
        if rels.get(d, 0) > 0:
            hit += 1
            s += hit / (i + 1)
    return s / nrel


def prec(ranked, rels, k):
    return sum(1 for d in ranked[:k] if rels.get(d, 0) > 0) / k


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    qrels, run = read_qrels(sys.argv[1]), read_run(sys.argv[2])
    metrics = sys.argv[3:] or ["ndcg_cut.10", "recall.100", "map"]
    qids = [q for q in qrels if any(v > 0 for v in qrels[q].values())]
    for m in metrics:
        name, _, k = m.partition(".")
        k = int(k) if k else 0
        tot = 0.0
        for q in qids:
            ranked, rels = run.get(q, []), qrels[q]
            if name == "ndcg_cut":
                tot += ndcg(ranked, rels, k)
            elif name == "recall":
                tot += recall(ranked, rels, k)
            elif name == "map":
                tot += ap(ranked, rels)
            elif name == "P":
                tot += prec(ranked, rels, k)
            else:
                sys.exit("unknown metric " + m)
        print("%-12s all %.4f" % (m, tot / len(qids)))


main()
