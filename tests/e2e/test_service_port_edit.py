"""A Service's targetPort edited to a port its pods do not declare (review-assist6 G11), built with real kubectl.

Someone patches Service api's targetPort 8080 -> 8008; api's pods declare (and listen on) 8080. Endpoints keep every
pod, at port 8008: every connection is refused while the pods look healthy. assess_namespace said NONE and
verify_recovery RECOVERED "stable for 3d"; the edit was in no change list (only selector edits were). Now the Service
is the outage, with the command that puts it back; real kubectl runs that command.
"""

from __future__ import annotations

import pytest
from mcp import Client
from support.kubectl_runner import Kubectl
from support.mitigation_env import Env, call

pytestmark = pytest.mark.anyio
NS = "shop"
TYPO = '[{"op":"replace","path":"/spec/ports/0/targetPort","value":8008}]'


async def test_a_service_edited_to_a_port_its_pods_do_not_declare_is_the_outage(built: tuple[Env, Kubectl]) -> None:
    env, kubectl = built
    kubectl.run("patch", "service/api", "-n", NS, "--type=json", "-p", TYPO)

    async with Client(env.server("safe")) as client:
        assessed = await call(client, "assess_namespace", namespace=NS)
        evaluated = await call(client, "evaluate_decision", namespace=NS)

    first = assessed["problems"][0]
    assert (first["impact"], first["action"], first["next_tool"]) == ("outage", "ROLLBACK", None), first
    assert "port 8008, which no container of its 3 Ready pods declares (they declare 8080 (http))" in first["detail"]
    reason = assessed["decision"]["reason"]
    # (the reason says how long ago the edit was: two reads a second apart may differ there)
    assert "port 8008, which no container" in evaluated["reason"] and evaluated["next_tool"] is None, evaluated
    assert "(the human runs: kubectl patch service api -n shop --type=json" in reason, reason
    # The oracle: the command the reason names, run by kubectl, puts the targetPort back.
    command = reason.split("(the human runs: ", 1)[1].split("); no tool", 1)[0]
    kubectl.shell(command)
    assert env.get("services", "api")["spec"]["ports"][0]["targetPort"] == 8080
