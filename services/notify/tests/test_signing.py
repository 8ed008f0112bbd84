import time

from notify import signing

SECRET = "s3cret-s3cret-s3cret"


def test_signed_body_verifies():
    body = b'{"a":1}'
    headers = signing.sign(body, SECRET)
    assert set(headers) == {"X-CRM-Signature", "X-CRM-Timestamp"}
    assert headers["X-CRM-Signature"].startswith("sha256=")
    assert signing.verify(body, headers, SECRET)


def test_headers_case_insensitive():
    body = "hello"
    headers = {k.lower(): v for k, v in signing.sign(body, SECRET).items()}
    assert signing.verify(body, headers, SECRET)


def test_tampered_body_fails():
    headers = signing.sign(b'{"amount":1}', SECRET)
    assert not signing.verify(b'{"amount":2}', headers, SECRET)


def test_wrong_secret_fails():
    headers = signing.sign(b"x", SECRET)
    assert not signing.verify(b"x", headers, "other-secret-other")


def test_replay_outside_tolerance_rejected():
    old = int(time.time()) - 301
    headers = signing.sign(b"x", SECRET, timestamp=old)
    assert not signing.verify(b"x", headers, SECRET, tolerance=300)
    assert signing.verify(b"x", headers, SECRET, tolerance=400)


def test_future_timestamp_outside_tolerance_rejected():
    headers = signing.sign(b"x", SECRET, timestamp=int(time.time()) + 1000)
    assert not signing.verify(b"x", headers, SECRET)


def test_timestamp_is_part_of_signature():
    ts = int(time.time())
    headers = signing.sign(b"x", SECRET, timestamp=ts)
    headers["X-CRM-Timestamp"] = str(ts + 1)
    assert not signing.verify(b"x", headers, SECRET)


def test_missing_or_garbage_headers_fail():
    assert not signing.verify(b"x", {}, SECRET)
    assert not signing.verify(b"x", {"X-CRM-Timestamp": "abc", "X-CRM-Signature": "sha256=00"}, SECRET)


def test_known_vector():
    # hmac_sha256("k", "1700000000.body")
    import hashlib
    import hmac
    expected = "sha256=" + hmac.new(b"k", b"1700000000.body", hashlib.sha256).hexdigest()
    assert signing.signature(b"body", "k", 1700000000) == expected
