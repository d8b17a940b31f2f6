"""Masking's gates (tools/core/masking_gates.py) skip a rule only where the rule cannot match, so masking with them
masks exactly what running every rule masks. Checked on every rule's own matches (drawn from its regex, so a rule
added later is checked too), and on a large varied corpus: the masking tests' secrets and look-alikes and every
string their files hold, everything every shipped scenario serves (objects, their JSON, container logs), and random
text built from the rules' own key strings, in every case and with the non-ASCII letters IGNORECASE relates to ASCII
ones. Also: the short names and numbers an answer is mostly made of open no gate (that is the speed-up)."""

from __future__ import annotations

import ast
import functools
import json
import random
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.secrets_corpus import CREDENTIALS, LOOK_ALIKES

from incident_response.sim.cluster import Cluster, ManualClock
from incident_response.sim.errors import ApiError
from incident_response.sim.resources import BY_KEY, PODS
from incident_response.sim.scenarios import SCENARIOS, load_scenario
from incident_response.sim.store import Store
from incident_response.tools.core import masking
from incident_response.tools.core.masking_gates import gate

TESTS = Path(__file__).resolve().parents[1]
LONG = 2000  # longer texts are cut: every gate is open on them anyway, and the corpus stays quick to check
LOG_LINES = 10  # of each container's log (the rest are more of the same shapes)
VENDOR = (True, False)  # with detect-secrets' catalogue, and our own rules only (log lines before the handshake)
# Characters Python's IGNORECASE matches to ASCII letters that str.lower() does not map to them.
UNICODE_TWINS = {"k": "\u212a", "K": "\u212a", "s": "\u017f", "S": "\u017f", "i": "\u0131", "I": "\u0130"}


def rule_id(rule: re.Pattern[str]) -> str:
    return rule.pattern[:40]


def strings_in(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from strings_in(k)
            yield from strings_in(v)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from strings_in(item)


def scenario_texts() -> Iterator[str]:
    """Every string of every object each scenario serves, and the JSON and the first log lines of each object the
    scenarios before did not have (most are the same shop's)."""
    seen: set[tuple[str, str | None, str]] = set()
    for name in SCENARIOS:
        clock = ManualClock()
        cluster = Cluster(Store(clock=clock.wall), clock=clock, sleep=clock.sleep)
        load_scenario(name, cluster)
        for resource in BY_KEY.values():
            for obj in cluster.store.items(resource):
                yield from strings_in(obj)
                meta = obj["metadata"]
                key = (resource.key, meta.get("namespace"), meta["name"].rsplit("-", 1)[0])
                if key in seen:
                    continue
                seen.add(key)
                yield json.dumps(obj)[:LONG]
                if resource is PODS:
                    for log in pod_logs(cluster, obj):
                        yield log[:LONG]
                        yield from log.splitlines()[:LOG_LINES]


def pod_logs(cluster: Cluster, pod: dict[str, Any]) -> Iterator[str]:
    meta = pod["metadata"]
    for container in pod["spec"].get("containers") or []:
        for previous in (False, True):
            try:
                yield cluster.pod_logs(
                    meta.get("namespace"),
                    meta["name"],
                    container=container["name"],
                    previous=previous,
                    tail_lines=None,
                    since_seconds=None,
                    timestamps=previous,
                    limit_bytes=None,
                )
            except ApiError:  # not started, or no previous run: nothing to collect
                continue


def file_strings() -> Iterator[str]:
    """Every string literal in the masking and secrets test files: the secrets and near misses they were written for."""
    for path in [*TESTS.glob("unit/test_masking*.py"), *TESTS.glob("e2e/test_secrets*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                yield node.value


def random_texts(count: int) -> Iterator[str]:
    """Texts assembled from the rules' own key strings, separators, credentials and random characters."""
    rng = random.Random(20261205)
    pieces = sorted(
        {s for vendor in VENDOR for rule in masking._rules(vendor) for c in gate(rule).clauses for s in c.strings}
    )
    pieces += [p.text for p in CREDENTIALS] + LOOK_ALIKES + [" ", "=", ":", "\n", '"', "'", "-", "--", "://", "@"]
    alphabet = "abcXYZ019_-./+=:@ \t\n\"'\\" + "".join(UNICODE_TWINS.values()) + "é\u00a0"
    for _ in range(count):
        parts = []
        for _ in range(rng.randint(1, 8)):
            roll = rng.random()
            if roll < 0.6:
                parts.append(rng.choice(pieces))
            else:
                parts.append("".join(rng.choice(alphabet) for _ in range(rng.randint(1, 60))))
        yield "".join(parts)


def variants(text: str) -> Iterator[str]:
    yield text
    yield text.upper()
    yield text.lower()
    yield text.swapcase()
    yield "".join(UNICODE_TWINS.get(c, c) for c in text)


@functools.cache
def written() -> tuple[str, ...]:
    """The secrets corpus, the test files' strings, in several cases, and random text made of the rules' key strings."""
    texts = [*(p.text for p in CREDENTIALS), *(p.secret for p in CREDENTIALS), *LOOK_ALIKES, *file_strings()]
    return tuple(dict.fromkeys([*(v for t in texts for v in variants(t)), *random_texts(1200)]))


@functools.cache
def corpus() -> tuple[str, ...]:
    return tuple(dict.fromkeys([*written(), *scenario_texts()]))


@pytest.mark.parametrize("vendor_rules", VENDOR)
def test_a_rule_is_skipped_only_on_a_text_it_does_not_match(vendor_rules: bool) -> None:
    gates = masking._gates(vendor_rules)
    missed = []
    for text in corpus():
        opened = gates.open(text)
        missed += [
            (rule.pattern, text) for rule in masking._rules(vendor_rules) if rule not in opened and rule.search(text)
        ]
    assert not missed[:5]


@pytest.mark.parametrize("vendor_rules", VENDOR)
def test_masking_with_the_gates_equals_running_every_rule(vendor_rules: bool) -> None:
    texts = written()
    differs = [
        t for t in texts if masking._mask_once(t, vendor_rules) != masking._mask_once(t, vendor_rules, gated=False)
    ]
    assert not differs[:5]
    # Not a comparison of two scans that find nothing: a good share of the texts hold a secret.
    assert sum(1 for t in texts if masking._mask_once(t, vendor_rules)[1]) > len(texts) // 5


def test_the_corpus_is_large_and_varied() -> None:
    texts = corpus()
    assert len(texts) > 5000 and len({len(t) for t in texts}) > 300
    assert sum(not t.isascii() for t in texts) > 1000


ALL_RULES = masking._rules(True)
# Each example: a rule, then a text its regex matches (hypothesis draws it from the regex, with text around it).
rule_and_match = st.sampled_from(ALL_RULES).flatmap(lambda rule: st.tuples(st.just(rule), st.from_regex(rule)))


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow], max_examples=3 * settings().max_examples)
@given(rule_and_match)
def test_every_rule_s_gate_opens_on_what_the_rule_matches(drawn: tuple[re.Pattern[str], str]) -> None:
    rule, text = drawn
    if rule.search(text):
        for variant in variants(text):
            if rule.search(variant):
                assert rule in masking._gates(True).open(variant)
                if rule in masking._rules(False):
                    assert rule in masking._gates(False).open(variant)


@pytest.mark.parametrize(
    "text",
    [
        "api-695b596cf8-85gbt",
        "checkout-5d9c997b57-b8kq6",
        "deployment/orders-db",
        "10.244.0.5",
        "16 pods in shop; all Running and ready",
        "inc-20261205-070407-9706",
        "last_restart_age",
        "ImagePullBackOff",
        "CrashLoopBackOff",
    ],
)
def test_everyday_names_and_numbers_open_no_gate(text: str) -> None:
    assert masking._gates(True).open(text) == frozenset()


def test_every_rule_but_the_bare_aws_key_has_a_key_string() -> None:
    """A rule whose gate knows no key string runs on every text long enough: today only the bare AWS secret key (40
    characters of base64, nothing else to recognize it by). A new rule the derivation cannot read shows up here."""
    keyless = [rule.pattern for rule in ALL_RULES if not gate(rule).clauses]
    assert keyless == [masking._AWS_SECRET.pattern]


def test_a_rule_the_parser_cannot_read_is_always_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """re's parser is private: where it is missing or fails, the rule runs on every text (slower, never weaker)."""
    from incident_response.tools.core import masking_gates

    class Broken:
        def parse(self, *_: Any) -> Any:
            raise TypeError("another Python's parser")

    monkeypatch.setattr(masking_gates, "_parser", Broken())
    rule = masking._JWT
    assert gate(rule) == masking_gates.ALWAYS_OPEN
    assert rule in masking_gates.Gates([rule]).open("x")
