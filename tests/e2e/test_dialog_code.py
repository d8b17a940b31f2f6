"""The confirmation dialog approves only with the code it shows typed back: a client that accepts every dialog
without a person reading it (an auto-approve setting, a form filled from the schema) cannot approve a plan.

The attacker here is the client: it answers `accept` with whatever the form asks for, never reading the message.
Before the code, an accepted `{"approve": true}` ran the rollback.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import pytest
from mcp import Client
from mcp.types import ElicitRequestFormParams, ElicitResult
from support.confirm_env import Env, call, make_env, plan
from support.dialog import code_in, human_answer

from incident_response.sim.serve import RunningSim
from incident_response.tools.engine.journal import DB_NAME, Journal

pytestmark = pytest.mark.anyio


@pytest.fixture
def env(sim_factory: Callable[..., RunningSim], tmp_path: Path) -> Env:
    return make_env(sim_factory("bad-deploy"), tmp_path / "state")


def blind(schema: dict[str, Any]) -> dict[str, Any]:
    """What an auto-accepting client sends: every field filled from its type, default or first choice."""
    values: dict[str, Any] = {}
    for name, field in schema.get("properties", {}).items():
        kind = field.get("type")
        if "default" in field:
            values[name] = field["default"]
        elif kind == "boolean":
            values[name] = True
        elif kind in ("integer", "number"):
            values[name] = 0
        elif field.get("enum"):
            values[name] = field["enum"][0]
        else:
            values[name] = "yes"
    return values


def recording(seen: list[str], answer: Callable[[ElicitRequestFormParams], dict[str, Any]]) -> Any:
    async def callback(context: Any, params: ElicitRequestFormParams) -> ElicitResult:
        seen.append(params.message)
        return ElicitResult(action="accept", content=answer(params))

    return callback


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_a_client_that_accepts_every_dialog_approves_nothing(env: Env, mode: Literal["auto", "legacy"]) -> None:
    seen: list[str] = []
    bad = env.image()
    async with Client(
        env.server(), mode=mode, elicitation_callback=recording(seen, lambda p: blind(p.requested_schema))
    ) as c:
        p = await plan(c, env)
        first = await call(c, "confirm_command", token=p["token"])
        again = await call(c, "confirm_command", token=p["token"])
    assert len(seen) == 1, "the dialog is asked once; its wrong answer ends the token"
    assert first["status"] == "denied" and again["status"] == "denied", (first, again)
    for answer in (first, again):  # said again to a later confirm, not the generic "a human denied it"
        assert "without the code" in answer["message"] and "plan again" in answer["message"].lower(), answer
    assert env.image() == bad
    kinds = [e.kind for e in Journal(env.state).events(token=p["token"])]
    assert "claimed" not in kinds and "denied" in kinds


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_the_code_typed_back_approves_and_the_model_never_sees_it(
    env: Env, mode: Literal["auto", "legacy"]
) -> None:
    seen: list[str] = []
    good = env.revision_image(2)
    async with Client(env.server(), mode=mode, elicitation_callback=recording(seen, human_answer)) as c:
        p = await plan(c, env)
        other = await plan(c, env)
        listed = await call(c, "list_pending_commands")
        done = await call(c, "confirm_command", token=p["token"])
        await call(c, "cancel_command", token=other["token"])
    assert done["status"] == "succeeded" and done["approval_channel"] == "elicitation", done
    assert env.image() == good
    code = code_in(seen[0])
    # What the model reads (every tool result) and what is kept (the journal) never carry the code. (A fraction of a
    # second in a timestamp is six digits too: the pattern skips digits after a '.'.)
    alone = re.compile(rf"(?<![\d.]){code[:3]} ?{code[3:]}(?!\d)")
    for shown in (p, other, listed, done):
        assert not alone.search(json.dumps(shown)), shown
    assert f"{code[:3]} {code[3:]}".encode() not in (env.state / DB_NAME).read_bytes()


async def test_a_code_from_an_earlier_dialog_does_not_approve_another_plan(env: Env) -> None:
    """Each plan has its own code: replaying what a person typed for one plan into another's dialog denies it."""
    codes: list[str] = []

    async def callback(context: Any, params: ElicitRequestFormParams) -> ElicitResult:
        codes.append(code_in(params.message))
        if len(codes) == 1:
            return ElicitResult(action="cancel")  # the first dialog is dismissed: its code is all the client keeps
        return ElicitResult(action="accept", content={"code": codes[0]})

    bad = env.image()
    async with Client(env.server(), elicitation_callback=callback) as c:
        one = await plan(c, env)
        assert (await call(c, "confirm_command", token=one["token"]))["status"] == "awaiting_approval"
        await call(c, "cancel_command", token=one["token"])
        two = await plan(c, env)
        replayed = await call(c, "confirm_command", token=two["token"])
    assert codes[0] != codes[1]
    assert replayed["status"] == "denied", replayed
    assert env.image() == bad


async def test_a_client_that_sends_the_typed_code_as_a_number_still_approves(env: Env) -> None:
    """A form renderer that turns typed digits into a JSON number: the code is checked as typed, not refused as a
    schema error naming the server's internals with no next step (the error before). A code with a leading zero
    loses it as a number: that answer is a wrong code, so it denies."""
    codes: list[str] = []

    async def callback(context: Any, params: ElicitRequestFormParams) -> ElicitResult:
        code = code_in(params.message)
        codes.append(code)
        return ElicitResult(action="accept", content={"code": int(code)})

    good = env.revision_image(2)
    async with Client(env.server(), elicitation_callback=callback) as c:
        p = await plan(c, env)
        done = await call(c, "confirm_command", token=p["token"])
    if codes[0].startswith("0"):
        assert done["status"] == "denied" and env.image() != good, done
    else:
        assert done["status"] == "succeeded" and env.image() == good, done
