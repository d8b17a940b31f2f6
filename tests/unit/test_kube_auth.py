"""Who a client is (TokenReview) and what it may call (SubjectAccessReview per toolset), against a fake API."""

from __future__ import annotations

import threading
from typing import Any

import anyio
import anyio.to_thread
import pytest
from mcp.server.mcpserver.exceptions import ToolError
from support.fake_reviews import FakeReviews, User

from incident_response.server import catalog
from incident_response.server.kube_auth import (
    MAX_TOKEN_LENGTH,
    KubernetesAccessToken,
    KubernetesTokenVerifier,
    ReviewUnavailable,
)
from incident_response.server.review_cache import ExpiringCache
from incident_response.server.toolset_authz import ToolsetAuthorizer, grant_for, how_to_grant
from incident_response.tools.core import errors

pytestmark = pytest.mark.anyio

BOT_TOKEN = "bot-token-" + "b" * 40
HUMAN_TOKEN = "human-token-" + "h" * 40
BOT = User(
    "system:serviceaccount:incident-response:bot",
    uid="1111",
    groups=("system:serviceaccounts", "system:authenticated"),
    extra={"authentication.kubernetes.io/pod-name": ["bot-0"]},
    grants=frozenset({"read", "plan"}),
)
HUMAN = User("alice@example.com", grants=frozenset({"read", "plan", "confirm"}))


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def verifier(api: FakeReviews, clock: Clock | None = None, audiences: tuple[str, ...] = ()) -> KubernetesTokenVerifier:
    cache: ExpiringCache[Any, Any] = ExpiringCache(16, clock or Clock())
    return KubernetesTokenVerifier(lambda: api, audiences, cache=cache)


async def test_a_reviewed_token_is_its_kubernetes_user_with_groups_and_extra() -> None:
    api = FakeReviews({BOT_TOKEN: BOT})
    token = await verifier(api).verify_token(BOT_TOKEN)
    assert isinstance(token, KubernetesAccessToken)
    assert token.client_id == BOT.username and token.subject == "1111"
    assert token.review_subject() == {
        "user": BOT.username,
        "uid": "1111",
        "groups": ["system:serviceaccounts", "system:authenticated"],
        "extra": {"authentication.kubernetes.io/pod-name": ["bot-0"]},
    }
    assert api.asked == [("TokenReview", {"token": BOT_TOKEN})]


async def test_an_unknown_token_is_refused_and_the_refusal_is_cached_briefly() -> None:
    api, clock = FakeReviews({BOT_TOKEN: BOT}), Clock()
    check = verifier(api, clock)
    assert await check.verify_token("stolen-" + "x" * 40) is None
    assert await check.verify_token("stolen-" + "x" * 40) is None
    assert api.kinds() == ["TokenReview"]  # one review for the burst
    clock.now = 11.0
    assert await check.verify_token("stolen-" + "x" * 40) is None
    assert api.kinds() == ["TokenReview", "TokenReview"]


async def test_an_authenticated_answer_is_reused_within_its_window_then_asked_again() -> None:
    api, clock = FakeReviews({BOT_TOKEN: BOT}), Clock()
    check = verifier(api, clock)
    for _ in range(5):
        assert await check.verify_token(BOT_TOKEN) is not None
    assert api.kinds() == ["TokenReview"]
    del api.tokens[BOT_TOKEN]  # the ServiceAccount is deleted: its token stops working once the window passes
    clock.now = 31.0
    assert await check.verify_token(BOT_TOKEN) is None


async def test_the_cache_never_holds_the_token_itself() -> None:
    api = FakeReviews({BOT_TOKEN: BOT})
    check = verifier(api)
    await check.verify_token(BOT_TOKEN)
    assert BOT_TOKEN.encode() not in repr(check.cache._entries).encode()


@pytest.mark.parametrize(
    "token", ["", "with space " + "x" * 20, "naïve-" + "x" * 20, "x" * (MAX_TOKEN_LENGTH + 1), "tab\t" + "x" * 20]
)
async def test_a_token_no_cluster_issues_is_refused_without_asking(token: str) -> None:
    api = FakeReviews({token: BOT})
    assert await verifier(api).verify_token(token) is None
    assert api.asked == []


async def test_with_an_audience_only_tokens_issued_for_it_pass() -> None:
    mcp_token = "mcp-aud-token-" + "m" * 40
    api = FakeReviews({BOT_TOKEN: BOT, mcp_token: User(BOT.username, audiences=("incident-response-mcp",))})
    check = verifier(api, audiences=("incident-response-mcp",))
    assert await check.verify_token(BOT_TOKEN) is None  # the API server's own audience: usable against the API
    assert await check.verify_token(mcp_token) is not None
    assert api.asked[-1] == ("TokenReview", {"token": mcp_token, "audiences": ["incident-response-mcp"]})


async def test_an_answer_that_names_none_of_the_audiences_asked_for_is_refused() -> None:
    class Careless(FakeReviews):  # an authenticator that ignores spec.audiences (the API says: check status)
        def token_status(self, spec: dict[str, Any]) -> dict[str, Any]:
            return {"authenticated": True, "user": {"username": "mallory"}, "audiences": ["https://kubernetes"]}

    assert await verifier(Careless(), audiences=("incident-response-mcp",)).verify_token(BOT_TOKEN) is None


@pytest.mark.parametrize(
    "failure",
    [
        errors.ClusterUnreachable("connection refused"),
        errors.Forbidden("tokenreviews is forbidden", code=403, reason="Forbidden"),
    ],
)
async def test_an_api_that_cannot_answer_is_unavailable_never_a_pass(failure: errors.IncidentError) -> None:
    api = FakeReviews({BOT_TOKEN: BOT})
    api.failure = failure
    with pytest.raises(ReviewUnavailable, match="retry soon") as refused:
        await verifier(api).verify_token(BOT_TOKEN)
    assert BOT_TOKEN not in str(refused.value)
    api.failure = None  # nothing was cached: the next request is reviewed and passes
    assert await verifier(api).verify_token(BOT_TOKEN) is not None


def test_every_tool_needs_exactly_one_grant_and_only_confirm_command_needs_confirm() -> None:
    grants = {name: grant_for(name) for name in catalog.CATALOG}
    assert {name for name, grant in grants.items() if grant == "confirm"} == {"confirm_command"}
    assert grants["list_pods"] == grants["server_info"] == grants["list_pending_commands"] == "read"
    assert grants["rollback_deployment"] == grants["declare_incident"] == grants["cancel_command"] == "plan"
    assert None not in grants.values()
    assert grant_for("no_such_tool") is None


class Request:
    def __init__(self, token: KubernetesAccessToken) -> None:
        from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser

        self.user = AuthenticatedUser(token)


class Ctx:
    """The part of an MCP Context the authorizer reads: the HTTP request the bearer middleware authenticated."""

    def __init__(self, token: KubernetesAccessToken) -> None:
        self.request_context = type("RequestContext", (), {"request": Request(token)})()


async def authenticated(api: FakeReviews, token: str) -> Any:
    access = await verifier(api).verify_token(token)
    assert isinstance(access, KubernetesAccessToken)
    return Ctx(access)


async def test_a_tool_call_asks_rbac_for_each_toolset_as_the_reviewed_user() -> None:
    api = FakeReviews({BOT_TOKEN: BOT})
    ctx = await authenticated(api, BOT_TOKEN)
    authorizer = ToolsetAuthorizer(lambda: api, "incident-response", cache=ExpiringCache(16, Clock()))
    assert await authorizer.check("rollback_deployment", ctx) == ("read", "plan")
    reviews = {spec["resourceAttributes"]["name"]: spec for kind, spec in api.asked if kind == "SubjectAccessReview"}
    assert sorted(reviews) == ["confirm", "plan", "read"]
    assert reviews["plan"] == {
        "user": BOT.username,
        "uid": "1111",
        "groups": ["system:serviceaccounts", "system:authenticated"],
        "extra": {"authentication.kubernetes.io/pod-name": ["bot-0"]},
        "resourceAttributes": {
            "group": "incident-response.dev",
            "resource": "toolsets",
            "name": "plan",
            "verb": "use",
            "namespace": "incident-response",
        },
    }


async def test_a_missing_grant_is_a_tool_error_naming_the_grant_and_how_to_give_it() -> None:
    api = FakeReviews({BOT_TOKEN: BOT})
    ctx = await authenticated(api, BOT_TOKEN)
    authorizer = ToolsetAuthorizer(lambda: api, "incident-response", cache=ExpiringCache(16, Clock()))
    with pytest.raises(ToolError) as refused:
        await authorizer.check("confirm_command", ctx)
    message = str(refused.value)
    assert message.startswith("forbidden (403): system:serviceaccount:incident-response:bot may not use the 'confirm'")
    assert "--clusterrole incident-response-confirm --serviceaccount incident-response:bot -n incident-response" in (
        message
    )
    assert "nothing was run" in message


async def test_decisions_are_cached_per_user_and_grant_for_a_few_seconds() -> None:
    api, clock = FakeReviews({BOT_TOKEN: BOT, HUMAN_TOKEN: HUMAN}), Clock()
    authorizer = ToolsetAuthorizer(lambda: api, "ns", cache=ExpiringCache(16, clock))
    bot, human = await authenticated(api, BOT_TOKEN), await authenticated(api, HUMAN_TOKEN)
    for _ in range(3):
        await authorizer.check("list_pods", bot)
        await authorizer.check("rollback_deployment", bot)
    assert await authorizer.check("confirm_command", human) == ("read", "plan", "confirm")
    assert api.kinds().count("SubjectAccessReview") == 6  # each of the three grants once per user
    api.tokens[BOT_TOKEN] = User(BOT.username, uid="1111", groups=BOT.groups, extra=BOT.extra)  # binding removed
    await authorizer.check("list_pods", bot)  # still within the window
    clock.now = 10.5
    with pytest.raises(ToolError, match="may not use the 'read' toolset"):
        await authorizer.check("list_pods", bot)


async def test_an_api_that_cannot_authorize_refuses_the_call() -> None:
    api = FakeReviews({BOT_TOKEN: BOT})
    ctx = await authenticated(api, BOT_TOKEN)
    api.failure = errors.Timeout("the API server did not answer in 10s")
    authorizer = ToolsetAuthorizer(lambda: api, "ns", cache=ExpiringCache(16, Clock()))
    with pytest.raises(ToolError, match="did not answer the SubjectAccessReview; retry soon"):
        await authorizer.check("list_pods", ctx)


async def test_a_request_without_a_kubernetes_identity_is_refused() -> None:
    authorizer = ToolsetAuthorizer(lambda: FakeReviews(), "ns")
    with pytest.raises(ToolError, match="carries no Kubernetes identity"):
        await authorizer.check("list_pods", None)


def test_the_grant_command_names_a_user_or_a_service_account() -> None:
    assert "--user alice@example.com -n ns" in how_to_grant("alice@example.com", "confirm", "ns")
    assert "--serviceaccount team:bot -n ns" in how_to_grant("system:serviceaccount:team:bot", "plan", "ns")


def test_the_cache_is_bounded_and_drops_the_least_recently_used() -> None:
    cache: ExpiringCache[str, int] = ExpiringCache(2, Clock())
    cache.put("a", 1, 10)
    cache.put("b", 2, 10)
    assert cache.get("a") == 1
    cache.put("c", 3, 10)
    assert (cache.get("a"), cache.get("b"), cache.get("c"), len(cache)) == (1, None, 3, 2)


async def test_concurrent_requests_with_one_fresh_token_share_one_review() -> None:
    release, entered = threading.Event(), threading.Event()

    class Slow(FakeReviews):
        def review(self, group: str, kind: str, spec: dict[str, Any]) -> dict[str, Any]:
            entered.set()
            release.wait(30)
            return super().review(group, kind, spec)

    api = Slow({BOT_TOKEN: BOT})
    check = verifier(api)
    users: list[str | None] = []

    async def verify() -> None:
        token = await check.verify_token(BOT_TOKEN)
        users.append(None if token is None else token.client_id)

    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            for _ in range(20):
                tg.start_soon(verify)
            await anyio.to_thread.run_sync(entered.wait)
            release.set()
    assert users == [BOT.username] * 20
    assert api.kinds() == ["TokenReview"]


async def test_when_the_shared_review_fails_every_waiter_is_refused_as_unavailable_not_let_through() -> None:
    api = FakeReviews({BOT_TOKEN: BOT})
    api.failure = errors.ClusterUnreachable("connection refused")
    check = verifier(api)
    outcomes: list[str] = []

    async def verify() -> None:
        try:
            await check.verify_token(BOT_TOKEN)
        except ReviewUnavailable:
            outcomes.append("unavailable")
        else:
            outcomes.append("passed")

    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            for _ in range(5):
                tg.start_soon(verify)
    assert outcomes == ["unavailable"] * 5
