"""review-landed6: text-only get_logs errors and edge arguments."""
from harness import Play, run


async def play(p: Play) -> None:
    await p.call("get_logs", namespace="shop", pod_or_deployment="nope")
    await p.call("get_logs", namespace="shop", pod_or_deployment="deployment/checkout", previous=True, tail_lines=5)
    await p.call("get_logs", namespace="shop", pod_or_deployment="deployment/checkout", tail_lines=0)
    await p.call("list_events", namespace="shop", object="pod/nope")

run(play, "rl6e", scenario="bad-deploy")
