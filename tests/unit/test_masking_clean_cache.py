"""masking keeps the texts it found clean (so repeats are not scanned again) and only those: a text holding a secret
is masked every time and never kept."""

from __future__ import annotations

from incident_response.tools.core import masking
from incident_response.tools.core.masking import mask_text_counted


def test_a_secret_is_masked_every_time_and_only_clean_texts_are_kept() -> None:
    secret = "db-password=hunter2-very-secret"
    clean = "checkout-7d9f8-abcde is Running on node-2"
    for _ in range(3):
        assert mask_text_counted(clean) == (clean, 0)
        text, count = mask_text_counted(secret)
        assert count == 1 and "hunter2" not in text
    assert (clean, True) in masking._CLEAN
    assert not [key for key in masking._CLEAN if "hunter2" in key[0]]


def test_the_kept_texts_are_bounded() -> None:
    for n in range(masking._CLEAN_ENTRIES + 10):
        mask_text_counted(f"pod-{n} is Running")
    assert len(masking._CLEAN) <= masking._CLEAN_ENTRIES
    long = "x " * masking._CLEAN_TEXT_MAX
    mask_text_counted(long)
    assert (long, True) not in masking._CLEAN
