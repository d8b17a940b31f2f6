"""The quota's quantity arithmetic: parsed to thousandths, printed as Quantity.String() prints them."""

from __future__ import annotations

import pytest

from incident_response.sim import errors
from incident_response.sim.quota import canonical_hard, milli, pod_usage, render


@pytest.mark.parametrize(
    ("text", "amount", "printed"),
    [
        ("500m", 500, "500m"),
        ("1.5", 1500, "1500m"),
        ("2", 2000, "2"),
        (3, 3000, "3"),
        ("1024Mi", 1024 * 2**20 * 1000, "1Gi"),
        ("1536Mi", 1536 * 2**20 * 1000, "1536Mi"),
        ("1G", 10**12, "1G"),
        ("2000", 2_000_000, "2k"),
        ("1e3", 1_000_000, "1k"),
        ("0", 0, "0"),
    ],
)
def test_quantities_parse_and_print_canonically(text: str | int, amount: int, printed: str) -> None:
    assert milli(text) == amount
    assert render(amount, isinstance(text, str) and text.endswith("i")) == printed


def test_small_binary_amounts_print_as_plain_numbers() -> None:
    assert render(512_000, True) == "512"  # below 1Ki: decimal, as CanonicalizeBytes does
    assert render(1_000_000_000, True) == "1000000"  # not a whole number of Ki


def test_unparseable_hard_is_refused_with_the_field() -> None:
    quota = {"metadata": {"name": "q"}, "spec": {"hard": {"pods": "ten", "cpu": "0.5"}}}
    with pytest.raises(errors.ApiError) as err:
        canonical_hard(quota)
    assert err.value.code == 422 and "spec.hard[pods]" in err.value.message


def test_a_request_left_unset_is_its_limit_and_init_containers_take_the_max() -> None:
    pod = {
        "spec": {
            "containers": [
                {"name": "a", "resources": {"limits": {"cpu": "300m"}}},
                {"name": "b", "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}},
            ],
            "initContainers": [{"name": "i", "resources": {"requests": {"cpu": "1"}}}],
        }
    }
    usage = pod_usage(pod)
    assert usage["requests.cpu"] == usage["cpu"] == 1000  # max(300m + 100m, 1)
    assert usage["limits.cpu"] == 300
    assert usage["requests.memory"] == 64 * 2**20 * 1000
    assert "limits.memory" not in usage
    assert usage["pods"] == 1000
