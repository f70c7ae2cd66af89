#!/usr/bin/env python3
"""Two TREC runs compared query by query.

usage: paired.py QRELS RUN_A RUN_B ndcg|map

Prints the mean of each (nDCG@10 or MAP, as trec_score.py computes
them), the difference B - A, how many queries B does better and worse,
and the two-sided p of a randomisation test (2000 sign flips, fixed
seed).  Runs come from grid.sh with RUNS=dir.
"""
import os
import random
import sys


def scorer():
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                        "trec_score.py")
    src = open(path).read().replace("\nmain()\n", "\n")
    ns = {"__name__": "trec_score"}
    exec(compile(src, path, "exec"), ns)
    return ns


def main():
    if len(sys.argv) != 5 or sys.argv[4] not in ("ndcg", "map"):
        sys.exit(__doc__)
    ts = scorer()
    qrels = ts["read_qrels"](sys.argv[1])
    a, b = ts["read_run"](sys.argv[2]), ts["read_run"](sys.argv[3])

    def value(run, q):
        ranked = run.get(q, [])
        if sys.argv[4] == "map":
            return ts["ap"](ranked, qrels[q])
        return ts["ndcg"](ranked, qrels[q], 10)

    qids = [q for q in qrels if any(v > 0 for v in qrels[q].values())]
    pairs = [(value(a, q), value(b, q)) for q in qids]
    diff = [y - x for x, y in pairs]
    obs = sum(diff) / len(diff)
    random.seed(1)
    hits = 0
    for _ in range(2000):
        s = sum(d if random.random() < 0.5 else -d for d in diff)
        hits += abs(s / len(diff)) >= abs(obs) - 1e-12
    print("%s A %.6f B %.6f diff %+.6f better %d worse %d p %.3f" % (
        sys.argv[4], sum(x for x, _ in pairs) / len(pairs),
        sum(y for _, y in pairs) / len(pairs), obs,
        sum(d > 1e-12 for d in diff), sum(d < -1e-12 for d in diff),
        hits / 2000))


main()
