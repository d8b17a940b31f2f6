"""The simulated cluster's token authenticator: who a token names, for which audience, and for how long."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from incident_response.sim.identity import ADMIN_TOKEN, API_AUDIENCE, Authenticator, Unauthorized


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def test_a_service_account_token_expires_on_the_cluster_clock_and_dies_with_its_account() -> None:
    clock = Clock()
    authn = Authenticator(clock)
    alive = {("ns", "bot", "uid-1")}
    authn.account_exists = lambda ns, name, uid: (ns, name, uid) in alive
    token, expires = authn.mint_service_account("ns", "bot", "uid-1", (API_AUDIENCE,), 600)
    assert expires == clock.now + timedelta(seconds=600)
    user = authn.authenticate(f"Bearer {token}")
    assert user.name == "system:serviceaccount:ns:bot" and user.uid == "uid-1"
    clock.now += timedelta(seconds=599)
    assert authn.authenticate(f"Bearer {token}").name == user.name
    clock.now += timedelta(seconds=1)
    with pytest.raises(Unauthorized, match="expired"):
        authn.authenticate(f"Bearer {token}")
    fresh, _ = authn.mint_service_account("ns", "bot", "uid-1", (API_AUDIENCE,), 600)
    alive.clear()  # deleted (or replaced by a new account of the same name: another uid)
    with pytest.raises(Unauthorized, match="invalidated"):
        authn.authenticate(f"Bearer {fresh}")


def test_audiences_and_credentials_that_name_nobody() -> None:
    authn = Authenticator(Clock(), anonymous_admin=False)
    token, _ = authn.mint_service_account("ns", "client", "u", ("incident-response",), 3600)
    with pytest.raises(Unauthorized, match="audience"):
        authn.authenticate(f"Bearer {token}")  # not for the API server itself
    user, shared = authn.review(token, ("other", "incident-response"))
    assert (user.name, shared) == ("system:serviceaccount:ns:client", ("incident-response",))
    for header in ("Bearer ", "Basic YWRtaW46YWRtaW4=", "Bearer forged", "token"):
        with pytest.raises(Unauthorized):
            authn.authenticate(header)
    assert authn.authenticate(None).name == "system:anonymous"
    assert authn.authenticate(f"Bearer {ADMIN_TOKEN}").privileged


def test_people_get_tokens_with_their_groups_but_not_system_names() -> None:
    authn = Authenticator(Clock())
    alice = authn.authenticate(f"Bearer {authn.mint_user('alice', ('oncall', 'oncall'))}")
    assert (alice.name, alice.groups) == ("alice", ("oncall", "system:authenticated"))
    assert not alice.privileged
    with pytest.raises(ValueError, match="outside system:"):
        authn.mint_user("system:admin")
    with pytest.raises(ValueError):
        authn.mint_user("")
    assert authn.authenticate(None).privileged  # the default over plain HTTP: no token is the admin
