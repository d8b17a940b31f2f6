"""Per server in a play/fl_trace.py timeline: when the first call came (ms after tools/list), what the warm-up was
doing, the warm-up's CPU during the call, the call's wall time, and whether the warm-up had ended."""
import re, sys
from collections import defaultdict

lines = defaultdict(list)
for line in open(sys.argv[1] if len(sys.argv) > 1 else "/tmp/fl_trace.txt"):
    pid, t, rest = line.split(None, 2)
    lines[pid].append((float(t), rest.strip()))
for pid, events in lines.items():
    doing, ended = "-", None
    for i, (t, e) in enumerate(events):
        if "warm-up end" in e:
            ended = t
        m = re.match(r"warm-up step (.*) begin", e)
        if m:
            doing = m.group(1)
        if re.match(r"warm-up step .* end", e):
            doing = "between steps"
        if e.startswith("MainThread call begin"):
            c0 = e.split()[-1]
            for t2, e2 in events[i + 1:]:
                if e2.startswith("MainThread call end"):
                    c1 = e2.split()[-1]
                    break
            try:
                cpu = f"{float(c1) - float(c0):5.1f}"
            except ValueError:
                cpu = f"{c0}->{c1}"
            builds = [e2 for t3, e2 in events[i + 1:] if "call-build" in e2 and t3 <= t2]
            pcpu = float(e2.split("process cpu ")[1].split()[0])
            rest_calls = [float(x.split("process cpu ")[1].split()[0]) for _, x in events if x.startswith("MainThread call end")][1:]
            warmc = sorted(rest_calls)[len(rest_calls) // 2] if rest_calls else 0
            print(f"{pid} process CPU first {pcpu:5.1f} warm calls median {warmc:5.1f};", end=" ")
            print(f"{pid} call at {t:7.1f} took {t2 - t:6.1f} ms; warm-up {'ended at %.0f' % ended if ended else 'in: ' + doing}; warm-up CPU in call {cpu}; {' '.join(builds)}")
            break
