"""review-landed6: a pod of a scale-up still ContainerCreating seconds after: does assess call it failing?"""
from harness import Play, run


async def play(p: Play) -> None:
    p.kubectl("scale", "deployment/api", "-n", "shop", "--replicas=5")
    p.sim.wait_ticks(1)
    p.kubectl("get", "pods", "-n", "shop", "-l", "app=api")
    await p.call("assess_namespace", namespace="shop")
    p.kubectl("create", "namespace", "pay")
    p.kubectl("create", "deployment", "pay", "--image=registry.example.com/pay:1", "--replicas=2", "-n", "pay")
    p.sim.wait_ticks(1)
    p.kubectl("get", "pods", "-n", "pay")
    await p.call("assess_namespace", namespace="pay")

run(play, "rl6d", scenario="healthy")
