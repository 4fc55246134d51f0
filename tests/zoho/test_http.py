"""The HTTP chokepoint and OAuth: refresh, retries, error translation, redaction."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import pytest
import requests

from deskctl.backends.zoho import ZohoBackend
from deskctl.backends.zoho.auth import TokenProvider
from deskctl.backends.zoho.http import Session
from deskctl.errors import AuthError, BackendError, NotFound, ValidationError
from tests.zoho.conftest import ACCOUNTS, FakeZoho

JSON = {"Content-Type": "application/json"}


def test_the_access_token_is_reused_across_processes(fake: FakeZoho, zoho_credentials,
                                                     tmp_path: Path) -> None:
    cache = tmp_path / "token.json"
    first = TokenProvider(ACCOUNTS, zoho_credentials, cache)
    second = TokenProvider(ACCOUNTS, zoho_credentials, cache)  # as another process would
    assert first.token() == second.token()
    assert fake.count("POST", "/oauth/v2/token") == 1
    assert oct(cache.stat().st_mode & 0o777) == "0o600"
    assert "refresh-token-value" not in cache.read_text()


def test_a_token_near_expiry_is_refreshed(fake: FakeZoho, zoho_credentials,
                                          tmp_path: Path) -> None:
    provider = TokenProvider(ACCOUNTS, zoho_credentials, tmp_path / "token.json")
    fake.fail_next("POST", "/oauth/v2/token", (200, JSON, json.dumps(
        {"access_token": "hour", "expires_in": 3600}).encode()))
    assert provider.token() == "hour"
    cache = tmp_path / "token.json"
    entries = json.loads(cache.read_text())
    for entry in entries.values():
        entry["expires_at"] = time.time() + 299
    cache.write_text(json.dumps(entries))
    later = TokenProvider(ACCOUNTS, zoho_credentials, cache)  # the next cron run
    assert later.token() != "hour"  # within five minutes of a one-hour token's expiry
    assert fake.count("POST", "/oauth/v2/token") == 2


def test_short_lived_tokens_are_used_for_nine_tenths_of_their_life(
        fake: FakeZoho, zoho_credentials, tmp_path: Path) -> None:
    provider = TokenProvider(ACCOUNTS, zoho_credentials, tmp_path / "token.json")
    fake.fail_next("POST", "/oauth/v2/token", *[(200, JSON, json.dumps(
        {"access_token": f"short-{i}", "expires_in": 2}).encode()) for i in range(2)])
    assert provider.token() == "short-0"
    for _ in range(5):
        assert provider.token() == "short-0"  # not refreshed on every call
    assert TokenProvider(ACCOUNTS, zoho_credentials, tmp_path / "token.json").token() \
        == "short-0"  # and shared through the cache
    time.sleep(1.85)  # past 2 s less a tenth of its life
    assert provider.token() == "short-1"
    assert fake.count("POST", "/oauth/v2/token") == 2


def test_the_crm_host_follows_the_api_domain_of_the_token_answer(
        fake: FakeZoho, zoho_credentials, tmp_path: Path) -> None:
    from tests.zoho.conftest import settings

    fake.emulator.api_domain = "https://www.zohoapis.eu"
    zoho = ZohoBackend(settings(follow_api_domain=True),
                       TokenProvider(ACCOUNTS, zoho_credentials, tmp_path / "token.json"))
    assert zoho.crm.users()
    assert fake.count("GET", r"^https://www\.zohoapis\.eu/crm/v8/users") == 1
    assert fake.count("GET", r"^https://www\.zohoapis\.com/") == 0
    again = TokenProvider(ACCOUNTS, zoho_credentials, tmp_path / "token.json")
    again.token()
    assert again.api_domain == "https://www.zohoapis.eu"  # kept in the shared cache
    fake.emulator.api_domain = "http://evil.example"  # never followed to plain http
    fixed = ZohoBackend(settings(), TokenProvider(ACCOUNTS, zoho_credentials,
                                                  tmp_path / "other.json"))
    fixed.crm.users()  # zoho.crm_url set: the configured host, whatever the answer says
    assert fake.count("GET", r"^https://www\.zohoapis\.com/crm/v8/users") == 1


def test_a_scope_error_is_not_refreshed_and_names_the_scope(zoho: ZohoBackend,
                                                            fake: FakeZoho) -> None:
    zoho.crm.users()
    fake.fail_next("GET", "/crm/v8/settings/modules", (401, JSON, json.dumps(
        {"code": "OAUTH_SCOPE_MISMATCH", "message": "Unauthorized", "status": "error",
         "details": {}}).encode()))
    with pytest.raises(AuthError, match="ZohoCRM.settings.modules.READ") as err:
        zoho.crm.modules()
    assert err.value.exit_code == 5 and "deskctl auth scopes" in err.value.message
    assert fake.count("POST", "/oauth/v2/token") == 1  # no refresh wasted on it
    desk = zoho.desk(zoho.portals()[0].id)
    fake.fail_next("GET", "/api/v1/tickets/search", (403, JSON, json.dumps(
        {"errorCode": "SCOPE_MISMATCH", "message": "scope mismatch"}).encode()))
    with pytest.raises(AuthError, match="Desk.search.READ"):
        desk.find_records("tickets", "subject", ["x"])
    assert fake.count("POST", "/oauth/v2/token") == 1


def test_token_requests_go_through_the_chokepoint(fake: FakeZoho, zoho_credentials,
                                                  tmp_path: Path, caplog) -> None:
    provider = TokenProvider(ACCOUNTS, zoho_credentials, tmp_path / "token.json")
    fake.fail_next("POST", "/oauth/v2/token", (503, JSON, b"{}"),
                   requests.ConnectionError("reset by peer"))
    with caplog.at_level(logging.INFO, logger="deskctl.http"):
        assert provider.token()  # a 503 and a dropped connection are retried
    assert fake.count("POST", "/oauth/v2/token") == 3
    assert "POST https://accounts.zoho.com/oauth/v2/token -> 200" in caplog.text
    for secret in ("client-secret-value", "refresh-token-value", "1000.CLIENTID"):
        assert secret not in caplog.text


def test_token_endpoint_errors_with_http_200_are_auth_errors(fake: FakeZoho, zoho_credentials,
                                                             tmp_path: Path) -> None:
    provider = TokenProvider(ACCOUNTS, zoho_credentials, tmp_path / "token.json")
    fake.fail_next("POST", "/oauth/v2/token", (200, JSON, json.dumps(
        {"error": "Access Denied", "error_description": "too many requests"}).encode()))
    with pytest.raises(AuthError, match="Access Denied.*too many token refreshes") as err:
        provider.token()
    assert err.value.exit_code == 5


def test_missing_credentials_name_the_command(fake: FakeZoho, monkeypatch,
                                              tmp_path: Path) -> None:
    from deskctl.credentials import CredentialStore

    provider = TokenProvider(ACCOUNTS, CredentialStore("default"), tmp_path / "t.json")
    with pytest.raises(AuthError, match="deskctl auth set zoho_client_id"):
        provider.token()


def test_an_expired_token_is_refreshed_once_mid_run(zoho: ZohoBackend, fake: FakeZoho) -> None:
    zoho.crm.users()
    fake.emulator.tokens.clear()  # Zoho revoked or expired it
    assert zoho.crm.users()
    assert fake.count("POST", "/oauth/v2/token") == 2
    fake.fail_next("GET", "/crm/v8/users", *[(401, JSON, b'{"code":"INVALID_TOKEN"}')] * 2)
    with pytest.raises(AuthError, match="INVALID_TOKEN"):
        zoho.crm.users()


def test_429_honours_retry_after(zoho: ZohoBackend, fake: FakeZoho) -> None:
    fake.fail_next("GET", "/crm/v8/users", (429, {**JSON, "Retry-After": "1"},
                                            b'{"code":"TOO_MANY_REQUESTS"}'))
    started = time.monotonic()
    assert zoho.crm.users()
    assert time.monotonic() - started >= 1.0
    assert fake.count("GET", "/crm/v8/users") == 2


def test_5xx_is_retried_then_reported(zoho: ZohoBackend, fake: FakeZoho) -> None:
    fake.fail_next("GET", "/crm/v8/users", (500, JSON, b"{}"), (503, JSON, b"{}"))
    assert zoho.crm.users()
    fake.fail_next("GET", "/crm/v8/users", *[(500, JSON, b"{}")] * 4)
    with pytest.raises(BackendError, match="Zoho answered 500"):
        zoho.crm.users()


def test_connection_resets_are_retried_but_a_create_is_not_resent(zoho: ZohoBackend,
                                                                  fake: FakeZoho) -> None:
    fake.fail_next("GET", "/crm/v8/users", requests.ConnectionError("reset by peer"))
    assert zoho.crm.users()
    fake.fail_next("POST", "/crm/v8/Accounts", requests.ConnectionError("reset by peer"))
    with pytest.raises(BackendError, match="connection lost"):
        zoho.crm.create_records("Accounts", [{"Account_Name": "Once"}])
    assert fake.count("POST", "/crm/v8/Accounts") == 1


def test_204_is_an_empty_result(zoho: ZohoBackend, fake: FakeZoho) -> None:
    assert list(zoho.crm.list_records("Contacts")) == []
    assert zoho.crm.find_records("Contacts", "Email", ["nobody@x.example"]) == []
    assert zoho.crm.deleted_records("Contacts") == []


def test_a_partial_batch_gives_one_result_per_record(zoho: ZohoBackend, fake: FakeZoho) -> None:
    results = zoho.crm.create_records("Contacts", [
        {"Last_Name": "Ok", "Email": "ok@x.example"}, {"Last_Name": "Bad", "Email": "bad"}])
    assert [r.ok for r in results] == [True, False]
    assert "invalid email" in (results[1].error or "") and results[1].field == "Email"
    all_bad = zoho.crm.create_records("Contacts", [{"Email": "x@x.example"}])
    assert not all_bad[0].ok  # HTTP 400 with per-record results is still per record


def test_writes_go_in_batches_of_100(zoho: ZohoBackend, fake: FakeZoho) -> None:
    results = zoho.crm.create_records("Accounts", [{"Account_Name": f"A{i}"}
                                                   for i in range(250)])
    assert all(r.ok for r in results) and len(results) == 250
    assert fake.count("POST", "/crm/v8/Accounts$") == 3


def test_reads_are_coql_keyset_pages_of_200(zoho: ZohoBackend, fake: FakeZoho) -> None:
    fake.sandbox.crm.create_records("Accounts", [{"Account_Name": f"P{i}"} for i in range(2100)])
    names = [r.data["Account_Name"] for r in zoho.crm.list_records("Accounts")]
    assert sorted(names) == sorted(f"P{i}" for i in range(2100))
    assert fake.count("POST", "/crm/v8/coql$") == 11
    assert fake.count("GET", r"/crm/v8/Accounts\?") == 0


def test_errors_carry_zohos_code_and_message(zoho: ZohoBackend, fake: FakeZoho) -> None:
    with pytest.raises(NotFound, match="no Contacts record with id 1"):
        zoho.crm.get_record("Contacts", "1")
    desk = zoho.desk(zoho.portals()[0].id)
    fake.fail_next("PATCH", "/api/v1/contacts/", (422, JSON, json.dumps(
        {"errorCode": "UNPROCESSABLE_ENTITY", "message": "Extra query parameter"}).encode()))
    contact = desk.create_record("contacts", {"lastName": "Err"})
    with pytest.raises(ValidationError, match="Zoho UNPROCESSABLE_ENTITY: Extra query"):
        desk.update_record("contacts", contact.id, {"firstName": "E"})


def test_verbose_logs_never_show_secrets(zoho: ZohoBackend, fake: FakeZoho, caplog) -> None:
    with caplog.at_level(logging.INFO, logger="deskctl.http"):
        zoho.crm.users()
    text = caplog.text
    assert "GET https://www.zohoapis.com/crm/v8/users" in text
    for secret in ("client-secret-value", "refresh-token-value", "Zoho-oauthtoken", "1000."):
        assert secret not in text


def test_plain_http_only_for_loopback() -> None:
    from deskctl.backends.zoho.settings import _checked_url
    from deskctl.errors import ConfigError

    assert _checked_url("crm_url", "http://127.0.0.1:8080/") == "http://127.0.0.1:8080"
    assert _checked_url("desk_url", "http://localhost:1") == "http://localhost:1"
    with pytest.raises(ConfigError, match="only for loopback"):
        _checked_url("crm_url", "http://10.0.0.5:8080")
    with pytest.raises(ConfigError, match="not an http"):
        _checked_url("crm_url", "ftp://x")


def test_data_centers_include_canadas_zohocloud() -> None:
    from deskctl.backends.zoho.settings import DATA_CENTERS

    assert DATA_CENTERS["ca"][2] == "https://accounts.zohocloud.ca"
    assert DATA_CENTERS["ca"][1] == "https://desk.zohocloud.ca"
    assert set(DATA_CENTERS) == {"com", "eu", "in", "com.au", "jp", "ca", "sa", "com.cn",
                                 "uk"}
    assert DATA_CENTERS["uk"] == ("https://www.zohoapis.uk", "https://desk.zoho.uk",
                                  "https://accounts.zoho.uk")


def test_unsupported_operations_say_the_manual_step(zoho: ZohoBackend) -> None:
    from deskctl.errors import Unsupported

    with pytest.raises(Unsupported, match="Setup > Marketplace"):
        zoho.create_portal("x")


def _bodies(fake: FakeZoho, method: str, pattern: str) -> list[dict]:
    import re

    return [json.loads(c.request.body) for c in fake.mock.calls
            if c.request.method == method and re.search(pattern, c.request.url)]


def test_crm_writes_fire_no_automation_unless_configured(fake: FakeZoho, zoho_credentials,
                                                          tmp_path: Path) -> None:
    from tests.zoho.conftest import settings

    quiet = ZohoBackend(settings(), TokenProvider(ACCOUNTS, zoho_credentials,
                                                  tmp_path / "t.json"))
    created = quiet.crm.create_records("Accounts", [{"Account_Name": "Quiet"}])
    quiet.crm.update_records("Accounts", [(str(created[0].id), {"Phone": "1"})])
    assert [b["trigger"] for b in _bodies(fake, "POST", "/crm/v8/Accounts$")
            + _bodies(fake, "PUT", "/crm/v8/Accounts$")] == [[], []]
    loud = ZohoBackend(settings(crm_triggers=("workflow", "approval")),
                       TokenProvider(ACCOUNTS, zoho_credentials, tmp_path / "t.json"))
    loud.crm.create_records("Accounts", [{"Account_Name": "Loud"}])
    assert _bodies(fake, "POST", "/crm/v8/Accounts$")[-1]["trigger"] == ["workflow",
                                                                          "approval"]
    quiet.crm.delete_records("Accounts", [str(created[0].id)])
    loud.crm.delete_records("Accounts", [str(created[0].id)])
    deletes = [c.request.url for c in fake.mock.calls if c.request.method == "DELETE"]
    assert "wf_trigger=false" in deletes[0] and "wf_trigger=true" in deletes[1]


def test_concurrency_leaves_headroom_below_the_editions_limit(tmp_path: Path) -> None:
    from deskctl.config import load_config

    def concurrency(text: str) -> int:
        from deskctl.backends.zoho.settings import ZohoSettings

        (tmp_path / "c.yaml").write_text("backend: zoho\nzoho:\n" + text)
        return ZohoSettings.from_config(load_config(str(tmp_path / "c.yaml"))).concurrency

    assert concurrency("  edition: professional\n") == 13
    assert concurrency("  edition: free\n") == 3
    assert concurrency("  edition: enterprise\n  concurrency_headroom: 5\n") == 20
    assert concurrency("  edition: standard\n  concurrency: 50\n") == 8  # capped
    assert concurrency("  edition: standard\n  concurrency: 4\n") == 4
    assert concurrency("  edition: free\n  concurrency_headroom: 9\n") == 1


def test_the_session_honours_proxies_and_ca_bundles_as_requests_does(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The proxy and CA settings of the environment, read once per host, are the very ones
    requests reads on every request, on the first request to a host and on later ones."""
    bundle = tmp_path / "ca.pem"
    bundle.write_text("")
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.example:3129")
    monkeypatch.setenv("NO_PROXY", "internal.example:8443,127.0.0.1")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    urls = ["https://www.zohoapis.com/crm/v8/coql", "https://desk.zoho.com/api/v1/contacts",
            "http://127.0.0.1:8765/api/v1/contacts", "http://127.0.0.1:8766/api/v1/contacts",
            "https://internal.example:8443/crm/v8/users",
            "https://internal.example:9443/crm/v8/users", "http://desk.zoho.com/api/v1"]
    ours, stock = Session(), requests.Session()
    for url in urls * 2:
        expected = stock.merge_environment_settings(url, {}, None, None, None)
        assert expected["verify"] == str(bundle)
        assert ours.merge_environment_settings(url, {}, None, None, None) == expected, url
    explicit = {"https": "http://other.example:1"}
    assert ours.merge_environment_settings(urls[0], explicit, None, False, None) == \
        stock.merge_environment_settings(urls[0], explicit, None, False, None)


def test_requests_go_through_the_proxy_of_the_environment(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Over real sockets: with HTTP_PROXY naming a port nobody listens on, a request to
    the served sandbox fails, unless NO_PROXY exempts its host."""
    import socket

    from deskctl.backends.local import LocalBackend
    from deskctl.backends.local.seed import SeedCounts, seed
    from deskctl.backends.local.server import Faults
    from deskctl.backends.zoho.http import Policy, ZohoHttp
    from tests.zoho.conftest import serving

    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        nobody = closed.getsockname()[1]
    sandbox = LocalBackend(tmp_path / "served.db")
    seed(sandbox, SeedCounts(0, 0, 0, 0, 0), random_seed=1)
    with serving(sandbox, Faults()) as served:
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{nobody}")
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        form = {"grant_type": "refresh_token", "client_id": "a", "client_secret": "b",
                "refresh_token": "c"}
        exempt = ZohoHttp(served.urls[0], None, Policy(retries=1))
        for _ in range(2):
            assert exempt.request("POST", "/oauth/v2/token", form=form)["access_token"]
        monkeypatch.delenv("NO_PROXY")
        proxied = ZohoHttp(served.urls[0], None, Policy(retries=1))
        with pytest.raises(BackendError, match="connection lost"):
            proxied.request("POST", "/oauth/v2/token", form=form)
