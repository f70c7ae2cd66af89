#!/usr/bin/env python3
"""Lines of grid.sh (or variants.sh) as tables over k1 and b.

usage: gridtab.py [FILE]     (standard input without FILE)

One table each of SciFact train nDCG@10, Vaswani MAP, their mean (the
second round's rule) and SciFact test nDCG@10 (reported, not used to
choose), then the best points by the mean, and by the rule that chose
the defaults of 2 Dec 2026: the highest train nDCG@10 among the points
with Vaswani MAP >= 0.30 (4-digit figures; check the one chosen with
paired.py, which prints exact means).
"""
import re
import sys


def main():
    f = open(sys.argv[1]) if len(sys.argv) > 1 else sys.stdin
    rows = {}
    for line in f:
        m = re.search(r"k1=([\d.]+),b=([\d.]+)\s+([\d.]+) ([\d.]+) ([\d.]+)",
                      line)
        if m:
            k, b, train, test, vas = map(float, m.groups())
            rows[(k, b)] = (train, vas, (train + vas) / 2, test)
    ks = sorted({k for k, _ in rows})
    bs = sorted({b for _, b in rows})
    names = ("train nDCG@10", "Vaswani MAP", "mean of train and Vaswani",
             "test nDCG@10")
    for i, name in enumerate(names):
        print(name)
        print("k1 \\ b " + " ".join("%5.2f" % b for b in bs))
        for k in ks:
            print("%-6.3f " % k + " ".join(
                ("%.4f" % rows[(k, b)][i])[1:] if (k, b) in rows else
                "    -" for b in bs))
        print()
    print("best by the mean:")
    for (k, b), r in sorted(rows.items(), key=lambda kv: -kv[1][2])[:5]:
        print("k1 %.3f b %.2f  train %.4f  Vaswani %.4f  mean %.5f  "
              "test %.4f" % (k, b, r[0], r[1], r[2], r[3]))
    print()
    print("best train among Vaswani >= 0.30:")
    ok = [kv for kv in rows.items() if kv[1][1] >= 0.30]
    for (k, b), r in sorted(ok, key=lambda kv: -kv[1][0])[:5]:
        print("k1 %.3f b %.2f  train %.4f  Vaswani %.4f  test %.4f" % (
            k, b, r[0], r[1], r[3]))


main()
