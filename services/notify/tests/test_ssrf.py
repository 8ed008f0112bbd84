import pytest

from crmkit.errors import InvalidInput
from notify import ssrf


def fixed(*addresses):
    return lambda host, port: list(addresses)


@pytest.mark.parametrize("addr", [
    "127.0.0.1", "10.1.2.3", "172.16.0.5", "192.168.1.1", "169.254.169.254", "0.0.0.0", "224.0.0.1",
    "240.0.0.1", "::1", "fe80::1", "fc00::1", "::ffff:127.0.0.1", "100.64.0.1",
])
def test_private_and_special_addresses_refused(addr):
    with pytest.raises(InvalidInput) as e:
        ssrf.check_url("https://hook.example.com/x", allow_private=False, resolver=fixed(addr))
    assert e.value.code == "webhook.url_not_allowed"
    assert e.value.status == 400


def test_public_address_allowed():
    url = "https://hook.example.com/path?q=1"
    assert ssrf.check_url(url, allow_private=False, resolver=fixed("93.184.216.34")) == url


def test_any_private_answer_refuses():
    with pytest.raises(InvalidInput):
        ssrf.check_url("https://h.example.com", allow_private=False, resolver=fixed("93.184.216.34", "10.0.0.1"))


def test_real_resolution_of_loopback_literal_and_localhost():
    for url in ("http://127.0.0.1:8080/hook", "http://localhost/hook", "http://[::1]/x"):
        with pytest.raises(InvalidInput) as e:
            ssrf.check_url(url, allow_private=False)
        assert e.value.code == "webhook.url_not_allowed"


@pytest.mark.parametrize("url", ["ftp://example.com/x", "file:///etc/passwd", "gopher://x", "http://", "nonsense",
                                 "http://user:pw@example.com/", "http://example.com:99999/"])
def test_bad_urls_refused(url):
    with pytest.raises(InvalidInput) as e:
        ssrf.check_url(url, allow_private=False, resolver=fixed("93.184.216.34"))
    assert e.value.code == "webhook.url_invalid"


def test_unresolvable_refused():
    def boom(host, port):
        raise OSError("nxdomain")
    with pytest.raises(InvalidInput) as e:
        ssrf.check_url("http://nowhere.invalid/", allow_private=False, resolver=boom)
    assert e.value.code == "webhook.url_unresolvable"


def test_operator_allowance_lets_private_through():
    assert ssrf.check_url("http://127.0.0.1:9/x", allow_private=True) == "http://127.0.0.1:9/x"


def test_operator_setting_from_env(monkeypatch):
    monkeypatch.setenv("ALLOW_PRIVATE_WEBHOOKS", "1")
    assert ssrf.operator_allows_private()
    monkeypatch.setenv("ALLOW_PRIVATE_WEBHOOKS", "0")
    assert not ssrf.operator_allows_private()
