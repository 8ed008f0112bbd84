"""Access tokens as identity issues them (PyJWT) and as the gateway verifies them
(crmkit.access, no PyJWT): the same claims both ways; a forged, altered, expired or other-kind
token is refused with identity's codes (issue 16)."""
from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import jwt as pyjwt
import pytest

from crmkit.access import access_key, verify_access_token
from crmkit.errors import Unauthenticated
from identity import tokens

NOW = datetime(2026, 1, 1, tzinfo=UTC)
CONTEXT_KEY = "k" * 32
S = tokens.TokenSettings(secret="s" * 32, access_ttl=timedelta(minutes=15), device_ttl=timedelta(days=90),
                         access_secret=access_key(CONTEXT_KEY))
GATEWAY_KEY = access_key(CONTEXT_KEY)


def _issue(kind=tokens.ACCESS, settings=S, now=NOW, **extra):
    return tokens.issue(settings, kind, tenant_id="t1", user_id="u1", roles=["employee", "support"], tv=3, now=now,
                        dept_ids=["d1", "d2"], name="员工 A", av=7, **extra)[0]


def _code(token, key=GATEWAY_KEY, now=NOW):
    with pytest.raises(Unauthenticated) as e:
        verify_access_token(token, key, now.timestamp())
    return e.value.code


def test_the_gateway_reads_what_identity_issued():
    c = verify_access_token(_issue(), GATEWAY_KEY, (NOW + timedelta(minutes=1)).timestamp())
    assert (c.tenant_id, c.user_id, c.roles, c.dept_ids, c.name, c.tv, c.av) == (
        "t1", "u1", ("employee", "support"), ("d1", "d2"), "员工 A", 3, 7)
    assert c.expires_at - c.issued_at == 15 * 60
    # and identity itself reads it (its fallback, identity.authenticate)
    assert tokens.decode(S, _issue(), tokens.ACCESS, NOW)["av"] == 7


def test_access_tokens_are_signed_with_the_derived_key_not_jwt_secret():
    token = _issue()
    no_exp = {"verify_exp": False}
    assert pyjwt.decode(token, GATEWAY_KEY, algorithms=["HS256"], issuer="crm-identity", options=no_exp)["sub"] == "u1"
    with pytest.raises(pyjwt.InvalidSignatureError):
        pyjwt.decode(token, S.secret, algorithms=["HS256"], options=no_exp)
    device = _issue(tokens.DEVICE)
    assert pyjwt.decode(device, S.secret, algorithms=["HS256"], options=no_exp)["typ"] == "device"
    assert access_key(CONTEXT_KEY) != access_key("other" * 8) and len(GATEWAY_KEY) == 64


def test_refused_tokens():
    assert _code(_issue(), now=NOW + timedelta(minutes=15)) == "token.expired"
    assert _code(_issue(), key=access_key("x" * 32)) == "token.invalid"  # another key
    assert _code(_issue(tokens.DEVICE)) == "token.invalid"  # the gateway cannot read device tokens
    head, body, sig = _issue().split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=="))
    claims["roles"] = ["tenant_admin"]
    forged_body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    assert _code(f"{head}.{forged_body}.{sig}") == "token.invalid"  # altered claims
    none_head = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()
    assert _code(f"{none_head}.{body}.") == "token.invalid"  # alg none
    assert _code(pyjwt.encode({**claims, "roles": ["employee"]}, GATEWAY_KEY, algorithm="HS512")) == "token.invalid"
    wrong_kind = pyjwt.encode({**claims, "typ": "device"}, GATEWAY_KEY, algorithm="HS256")
    assert _code(wrong_kind) == "token.wrong_type"
    no_tv = {k: v for k, v in claims.items() if k != "tv"}
    assert _code(pyjwt.encode(no_tv, GATEWAY_KEY, algorithm="HS256")) == "token.invalid"
    bad_type = pyjwt.encode({**claims, "tv": "3"}, GATEWAY_KEY, algorithm="HS256")
    assert _code(bad_type) == "token.invalid"
    other_issuer = pyjwt.encode({**claims, "iss": "someone"}, GATEWAY_KEY, algorithm="HS256")
    assert _code(other_issuer) == "token.invalid"
    for junk in ("", "a.b.c", "a.b", None, 42, "x" * 5000, "é.é.é", f"{head}.{body}.{sig}="):
        assert _code(junk) == "token.invalid"


def test_a_token_from_before_access_versions_says_so():
    legacy = pyjwt.encode({"iss": "crm-identity", "typ": "access", "tid": "t1", "sub": "u1", "roles": ["employee"],
                           "tv": 1, "iat": int(NOW.timestamp()), "exp": int(NOW.timestamp()) + 900},
                          GATEWAY_KEY, algorithm="HS256")
    c = verify_access_token(legacy, GATEWAY_KEY, NOW.timestamp())
    assert c.av is None and c.dept_ids == () and c.name == ""  # the gateway asks identity for these


def test_identity_tells_the_kinds_apart_with_two_keys():
    with pytest.raises(Unauthenticated) as e:
        tokens.decode(S, _issue(tokens.DEVICE), tokens.ACCESS, NOW)
    assert e.value.code == "token.wrong_type"
    with pytest.raises(Unauthenticated) as e:
        tokens.decode(S, _issue(), tokens.DEVICE, NOW)
    assert e.value.code == "token.wrong_type"
    other = tokens.TokenSettings("x" * 32, S.access_ttl, S.device_ttl, access_key("y" * 32))
    with pytest.raises(Unauthenticated) as e:
        tokens.decode(S, _issue(settings=other), tokens.ACCESS, NOW)
    assert e.value.code == "token.invalid"


def test_from_env_derives_the_access_key_from_the_context_key(monkeypatch):
    monkeypatch.setenv("JWT_SECRET", "j" * 32)
    monkeypatch.setenv("CRM_CONTEXT_KEY", CONTEXT_KEY)
    settings = tokens.TokenSettings.from_env()
    assert settings.access_secret == GATEWAY_KEY and settings.key(tokens.DEVICE) == "j" * 32
