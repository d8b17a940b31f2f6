"""maxSurge 0 and maxUnavailable 0 together: upstream validation refuses it ("may not be 0 when maxSurge is 0");
does the sim? And a Job/CronJob: does the sim run them?"""
from harness import Play, run


async def play(p: Play) -> None:
    p.kubectl("patch", "deploy", "api", "-n", "shop", "-p", '{"spec":{"strategy":{"rollingUpdate":{"maxUnavailable":0,"maxSurge":0}}}}', check=False)
    p.apply([{"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "report", "namespace": "shop"},
              "spec": {"backoffLimit": 2, "template": {"spec": {"restartPolicy": "Never", "containers": [
                  {"name": "report", "image": "registry.example.com/shop/report:1.0"}]}}}}], show=True)
    p.sim.wait_ticks(40)
    p.kubectl("get", "jobs,pods", "-n", "shop", "-l", "job-name=report")
    p.kubectl("get", "job", "report", "-n", "shop", "-o", "jsonpath={.status}")

run(play, "surge0")
