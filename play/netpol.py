"""review-assist7: a NetworkPolicy cuts a dependency. Someone applies "payments-lockdown" (ingress to payments only
from app=checkout), but web calls payments directly too (its checkout page): web's requests to payments time out.
The sim models no connection failures (only readiness), so nothing fails in the cluster's eyes: the human reports
"web's payment page errors since 3 minutes". What can the assistant see: is the policy named as a recent change?"""
from harness import Play, run


async def play(p: Play) -> None:
    p.apply([{"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
              "metadata": {"name": "payments-lockdown", "namespace": "shop"},
              "spec": {"podSelector": {"matchLabels": {"app": "payments"}}, "policyTypes": ["Ingress"],
                       "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "checkout"}}}]}]}}], show=True)
    p.sim.wait_ticks(10)
    p.say("\n[human] web's payment page errors since 3 minutes (timeouts calling payments). What changed?")
    await p.call("assess_namespace", namespace="shop")
    await p.call("evaluate_decision", namespace="shop", deployment="web")
    await p.call("list_events", namespace="shop")
    await p.call("get_endpoints", namespace="shop", service="payments")
    await p.call("incident_handoff", namespace="shop")

run(play, "netpol")
