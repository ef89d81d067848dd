"""Filling in an issue mail: the stop link's token is the one ``Tokens`` makes, however it is made."""

from __future__ import annotations

import pytest

from services.mailer.delivery.compose import _SignerCache
from shared.tokens import Tokens

KEYS = ("a-secret-key-for-the-stop-links-0123456789",)


# Ids short and long enough that itsdangerous would and would not try compressing them.
@pytest.mark.parametrize("subscription_id", [1, 42, 9_999_999, 123_456_789, 10**15])
def test_stop_link_tokens_are_those_of_tokens_and_read_back(subscription_id):
    tokens = Tokens(KEYS)
    token = _SignerCache(tokens).dumps("unsubscribe", subscription_id, timed=False)
    assert token == tokens.dumps("unsubscribe", subscription_id, timed=False)
    assert tokens.loads("unsubscribe", token) == subscription_id


def test_a_long_payload_is_still_compressed_as_itsdangerous_does():
    tokens = Tokens(KEYS)
    payload = ["samma text"] * 20
    token = _SignerCache(tokens).dumps("unsubscribe", payload, timed=False)
    assert token.startswith(".")  # itsdangerous' mark of a compressed payload
    assert token == tokens.dumps("unsubscribe", payload, timed=False)
    assert tokens.loads("unsubscribe", token) == payload
