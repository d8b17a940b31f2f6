"""A numeric Service targetPort typo: someone patches Service api's targetPort 8080 -> 8008 (api's pods declare and
listen on 8080). Endpoints keep every pod (a number always resolves), at port 8008: every connection is refused.
The sim has no connection model (callers do not fail), so this is what the tools can see: the Service changed 10 s
ago, and its targetPort is a port no container of its pods declares."""
from harness import Play, run


async def play(p: Play) -> None:
    p.advance(31)
    p.kubectl("patch", "svc", "api", "-n", "shop", "--type=json", "-p", '[{"op":"replace","path":"/spec/ports/0/targetPort","value":8008}]')
    p.sim.wait_ticks(20)
    p.kubectl("get", "endpoints", "api", "-n", "shop")
    await p.call("assess_namespace", namespace="shop")
    await p.call("get_endpoints", namespace="shop", service="api")
    await p.call("verify_recovery", namespace="shop", deployment="api")

run(play, "tpnum")
