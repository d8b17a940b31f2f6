"""Per call: client send -> server middleware (arrival), server middleware time, server end -> client receive
(return), from play/fl_trace.py's absolute times and play/fl_variants.py's FL_CLIENT_TIMES (CLOCK_MONOTONIC is one
clock for every process). python play/fl_latency.py TRACE CLIENT_TIMES"""
import sys
server = []
for line in open(sys.argv[1]):
    if " call begin " in line:
        b = float(line.split(" at ")[1].split()[0])
    if " call end at " in line:
        server.append((b, float(line.split(" call end at ")[1].split()[0])))
client = [tuple(map(float, l.split())) for l in open(sys.argv[2])]
assert len(server) == len(client), (len(server), len(client))
for i, ((sb, se), (cb, ce)) in enumerate(zip(server, client)):
    tag = "first" if i % 6 == 0 else "warm "
    print(f"{tag} arrival {1000*(sb-cb):6.1f} server {1000*(se-sb):6.1f} return {1000*(ce-se):6.1f} total {1000*(ce-cb):6.1f}")
