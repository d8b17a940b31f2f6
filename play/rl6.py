"""review-landed6: text-only results, handoff format, prompt, dialog code leaks."""
import json
from harness import Play, run


async def play(p: Play) -> None:
    await p.call("declare_incident", title="checkout crash", severity="SEV2", namespace="shop")
    await p.call("get_logs", namespace="shop", pod="deployment/checkout", previous=True)
    await p.call("list_events", namespace="shop")
    await p.call("incident_handoff", namespace="shop", format="xml")
    await p.call("incident_handoff", namespace="shop", format="JSON")
    r = await p.call("incident_handoff", namespace="shop", format="json", quiet=True)
    try:
        doc = json.loads(r["_text"])
        p.say(f"json keys: {sorted(doc)}")
    except Exception as e:  # noqa: BLE001
        p.say(f"!! json not parseable: {e}")
    assert p.client is not None
    pr = await p.client.get_prompt("handoff", {"namespace": "shop", "deployment": "checkout"})
    p.say(f"prompt ok: {len(pr.messages)} messages")
    await p.call("incident_handoff", namespace="shop", format="markdown")

run(play, "rl6", scenario="bad-deploy")
