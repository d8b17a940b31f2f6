"""review-landed6: a plan made before either team declared, then team-a declares shop (adopting the untitled
incident), then team-b declares payments: whose handoff shows the payments plan?"""
from harness import Play, run


async def play(p: Play) -> None:
    p.kubectl("create", "namespace", "pay")
    p.kubectl("create", "deployment", "pay", "--image=registry.example.com/pay:1", "--replicas=2", "-n", "pay")
    p.wait(lambda: len([x for x in p.pods("pay") if x.get("status", {}).get("phase") == "Running"]) == 2, what="pay up")
    plan = await p.call("scale_deployment", namespace="pay", deployment="pay", replicas=3)
    await p.confirm(plan)
    await p.call("declare_incident", title="checkout crash", severity="SEV2", namespace="shop")
    await p.call("declare_incident", title="payments slow", severity="SEV2", namespace="pay")
    a = await p.call("incident_handoff", namespace="shop", quiet=True)
    b = await p.call("incident_handoff", namespace="pay")
    for name, r in (("shop", a), ("pay", b)):
        text = r["_text"]
        p.say(f"--- {name}: mentions scale_deployment: {'scale_deployment' in text}")
        p.say("\n".join(l for l in text.splitlines() if "scale" in l.lower() or "Open Questions" in l or "incident" in l.lower())[:3000])

run(play, "rl6c", scenario="bad-deploy")
