#!/usr/bin/env python3
"""Where a vector-bench tail comes from: RK_VBENCH_TIMES=FILE's per-query
lines (round, query, engine, wall ms, CPU ms, involuntary and voluntary
context switches, minor faults).

    python3 bench/vector/tail.py FILE [ENGINE...]

Per engine and round: p50 and p99 of wall and of CPU time (a tail in
wall time only is time the process did not run: preemption, a stolen
virtual CPU), the slowest queries, how many queries were switched out;
then whether the slow queries are the same ones every round (query
specific: the data, the heap) or not (the machine), and whether they
come in runs of neighbouring queries (something else running a while).
"""
import itertools
import statistics
import sys


def pct(a, p):
    a = sorted(a)
    return a[min(len(a) - 1, int(p * len(a)))]


def main():
    t = {}
    for line in open(sys.argv[1]):
        r, q, e, w, c, iv, _, f = line.split()
        t.setdefault(e, {}).setdefault(int(r), {})[int(q)] = (
            float(w), float(c), int(iv), int(f))
    for e in sys.argv[2:] or t:
        rounds = t[e]
        slow = {}
        for r, qs in sorted(rounds.items()):
            w = [qs[q][0] for q in sorted(qs)]
            c = [qs[q][1] for q in sorted(qs)]
            worst = sorted(qs, key=lambda q: -qs[q][0])[:10]
            slow[r] = worst
            print('%-8s round %d  wall p50 %.2f p99 %.2f  cpu p50 %.2f '
                  'p99 %.2f  switched out %d  faults %d  query 0 %.2f' % (
                      e, r, pct(w, .5), pct(w, .99), pct(c, .5),
                      pct(c, .99), sum(1 for q in qs if qs[q][2]),
                      sum(qs[q][3] for q in qs), qs[0][0]))
            print('    slowest (query wall/cpu switches): ' + ' '.join(
                '%d %.1f/%.1f %d' % (q, qs[q][0], qs[q][1], qs[q][2])
                for q in worst[:6]))
            near = sum(1 for a in worst for b in worst if 0 < b - a <= 2)
            print('    of the slowest 10, pairs at most 2 queries apart: '
                  '%d' % near)
        for a, b in itertools.combinations(sorted(rounds), 2):
            qs = sorted(rounds[a])
            wa = [rounds[a][q][0] for q in qs]
            wb = [rounds[b][q][0] for q in qs]
            print('    rounds %d and %d: slowest 10 shared %d, wall time '
                  'correlation %.2f' % (a, b, len(set(slow[a]) &
                                                set(slow[b])),
                                        statistics.correlation(wa, wb)))


main()
