"""review-landed6: does a call in a namespace no incident has (a typo, outside the allow-list) open an incident?"""
from harness import Play, run
from incident_response.tools.engine.journal import Journal


async def play(p: Play) -> None:
    await p.call("declare_incident", title="checkout crash", severity="SEV2", namespace="shop")
    await p.call("list_pods", namespace="shpo")
    await p.call("list_pods", namespace="kube-system")
    await p.call("top_nodes")
    for row in Journal(p.state).incidents(open_only=True, limit=20):
        p.say(f"open: {row.id} ns={row.namespace} title={row.title!r} declared={row.declared_at}")
    await p.call("incident_handoff", namespace="shop", quiet=True)
    await p.call("declare_incident", title="cluster-wide DNS", severity="SEV1")

run(play, "rl6b", scenario="bad-deploy", namespaces=("shop",))
