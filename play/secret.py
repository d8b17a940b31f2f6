"""A rotated credential, no deploy: checkout-db's password changes in the Secret (kubectl apply); checkout's pods
restart (a node drain) and crash with 'password authentication failed'. The server reads no Secrets by design. What
do the tools say, and does the human get told what changed? Then the human asks about a rollback."""
import base64
from harness import Play, run


async def play(p: Play) -> None:
    p.advance(31)
    url = base64.b64encode(b"postgres://checkout:n3w-s3cr3t@orders-db:5432/orders").decode()
    p.kubectl("patch", "secret", "checkout-db", "-n", "shop", "-p", '{"data":{"url":"%s"}}' % url)
    p.kubectl("patch", "deploy", "checkout", "-n", "shop", "-p",
              '{"metadata":{"annotations":{"sim.incident-response.dev/rolled-out-minutes-ago":"4320"}},"spec":{"template":{"metadata":{"annotations":{"sim.incident-response.dev/behavior":"crashloop","sim.incident-response.dev/log-lines":"level=info msg=starting\\nFATAL: password authentication failed for user \\"checkout\\""}}}}}')
    p.sim.wait_ticks(80)
    p.kubectl("get", "pods", "-n", "shop", "-l", "app=checkout")
    a = await p.call("assess_namespace", namespace="shop")
    d = a["decision"]
    if d.get("next_tool"):
        await p.call(d["next_tool"], **d["next_arguments"])
    await p.call("check_rollback_safety", namespace="shop", deployment="checkout")

run(play, "secret")
