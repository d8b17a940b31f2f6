"""Diff two pstats dumps: functions by extra cumulative and own time in the first."""
import pstats, sys
a, b = pstats.Stats(sys.argv[1]).stats, pstats.Stats(sys.argv[2]).stats
rows = []
for f, v in a.items():
    w = b.get(f, (0, 0, 0, 0, None))
    rows.append((v[3] - w[3], v[2] - w[2], v[1], w[1], f))
print("total own: %.1f vs %.1f ms" % (1e3 * sum(v[2] for v in a.values()), 1e3 * sum(v[2] for v in b.values())))
key = 0 if len(sys.argv) < 4 else int(sys.argv[3])
for r in sorted(rows, key=lambda r: r[key], reverse=True)[:int(sys.argv[4]) if len(sys.argv) > 4 else 50]:
    print("  cum %+.2f own %+.2f  n %d/%d  %s:%d(%s)" % (1e3 * r[0], 1e3 * r[1], r[2], r[3], r[4][0][-55:], r[4][1], r[4][2]))
