"""Unit tests of tokens and password hashing (no service, no database)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from crmkit.errors import Unauthenticated
from identity import tokens
from identity.passwords import Passwords, hasher

NOW = datetime(2026, 1, 1, tzinfo=UTC)
S = tokens.TokenSettings(secret="s" * 32, access_ttl=timedelta(minutes=15), device_ttl=timedelta(days=90))


def _issue(kind=tokens.ACCESS, settings=S, now=NOW):
    return tokens.issue(settings, kind, tenant_id="t1", user_id="u1", roles=["employee"], tv=3, now=now)[0]


def test_access_token_round_trip():
    claims = tokens.decode(S, _issue(), tokens.ACCESS, NOW + timedelta(minutes=1))
    assert (claims["tid"], claims["sub"], claims["roles"], claims["tv"]) == ("t1", "u1", ["employee"], 3)


def test_expiry_type_and_signature():
    with pytest.raises(Unauthenticated) as e:
        tokens.decode(S, _issue(), tokens.ACCESS, NOW + timedelta(minutes=16))
    assert e.value.code == "token.expired"
    with pytest.raises(Unauthenticated) as e:
        tokens.decode(S, _issue(tokens.DEVICE), tokens.ACCESS, NOW)
    assert e.value.code == "token.wrong_type"
    other = tokens.TokenSettings("x" * 32, S.access_ttl, S.device_ttl)
    with pytest.raises(Unauthenticated) as e:
        tokens.decode(S, _issue(settings=other), tokens.ACCESS, NOW)
    assert e.value.code == "token.invalid"
    for junk in ("", "a.b.c", None, 42, "x" * 5000):
        with pytest.raises(Unauthenticated):
            tokens.decode(S, junk, tokens.ACCESS, NOW)


def test_device_token_lives_long():
    tokens.decode(S, _issue(tokens.DEVICE), tokens.DEVICE, NOW + timedelta(days=89))


def test_missing_secret_fails_fast(monkeypatch):
    monkeypatch.delenv("JWT_SECRET", raising=False)
    with pytest.raises(Exception) as e:
        tokens.TokenSettings.from_env()
    assert "JWT_SECRET" in str(e.value)


def test_argon2id_with_configured_cost(monkeypatch):
    monkeypatch.setenv("ARGON2_TIME_COST", "2")
    monkeypatch.setenv("ARGON2_MEMORY_KIB", "19456")
    ph = hasher()
    assert (ph.time_cost, ph.memory_cost, ph.parallelism) == (2, 19456, 1)
    pw = Passwords(ph)
    h = pw.hash("correct horse")
    assert h.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert pw.verify(h, "correct horse")
    assert not pw.verify(h, "wrong horse")
    assert not pw.verify("not-a-hash", "x")


def test_device_tokens_carry_their_family_and_a_unique_id():
    import jwt as pyjwt

    first = pyjwt.decode(_issue(tokens.DEVICE), options={"verify_signature": False})
    assert first["fam"] and first["jti"] and tokens.family_of(first) == first["fam"]
    child, _ = tokens.issue(S, tokens.DEVICE, tenant_id="t1", user_id="u1", roles=[], tv=3, now=NOW,
                            family=first["fam"])
    child_claims = pyjwt.decode(child, options={"verify_signature": False})
    assert child_claims["fam"] == first["fam"] and child_claims["jti"] != first["jti"]
    access = pyjwt.decode(_issue(tokens.ACCESS), options={"verify_signature": False})
    assert "fam" not in access
    assert tokens.family_of({"jti": "old-token"}) == "old-token"  # issued before rotation existed
