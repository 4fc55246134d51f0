from __future__ import annotations

import threading

import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail

from deskctl.credentials import CredentialStore
from deskctl.errors import AuthError


class HangingKeyring(KeyringBackend):
    """A locked keyring that waits for an unlock prompt nobody answers."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()

    def get_password(self, service: str, username: str) -> str | None:
        self.release.wait(30)
        return None

    def set_password(self, service: str, username: str, password: str) -> None:
        self.release.wait(30)

    def delete_password(self, service: str, username: str) -> None:
        self.release.wait(30)


def test_keyring_value_wins_over_environment(isolated, monkeypatch) -> None:
    monkeypatch.setenv("DESKCTL_ZOHO_REFRESH_TOKEN", "from-env")
    store = CredentialStore("default")
    assert store.lookup("zoho_refresh_token") == ("from-env", "env DESKCTL_ZOHO_REFRESH_TOKEN")
    store.set("zoho_refresh_token", "from-keyring")
    assert store.lookup("zoho_refresh_token") == ("from-keyring", "keyring")
    assert isolated.store[("deskctl", "default:zoho_refresh_token")] == "from-keyring"


def test_profiles_do_not_share_credentials(isolated) -> None:
    CredentialStore("acme").set("zsc_key", "k1")
    assert CredentialStore("default").get("zsc_key") is None
    assert CredentialStore("acme").get("zsc_key") == "k1"


def test_clear_removes_only_what_is_stored(isolated) -> None:
    store = CredentialStore("default")
    assert store.clear("zsc_key") is False
    store.set("zsc_key", "k1")
    assert store.clear("zsc_key") is True
    assert store.get("zsc_key") is None


def test_fail_keyring_counts_as_unavailable_and_env_is_used(monkeypatch) -> None:
    monkeypatch.setenv("DESKCTL_ZOHO_CLIENT_ID", "cid")
    store = CredentialStore("default", keyring_backend=None)
    import keyring

    keyring.set_keyring(fail.Keyring())
    assert store.lookup("zoho_client_id") == ("cid", "env DESKCTL_ZOHO_CLIENT_ID")
    assert "no usable keyring" in (store.unavailable_reason or "")
    with pytest.raises(AuthError, match="set DESKCTL_ZSC_KEY in the environment"):
        store.set("zsc_key", "secret-value")


def test_a_hanging_keyring_is_given_up_on_quickly(monkeypatch) -> None:
    monkeypatch.setenv("DESKCTL_KEYRING_TIMEOUT", "0.2")
    monkeypatch.setenv("DESKCTL_ZSC_KEY", "env-key")
    hanging = HangingKeyring()
    store = CredentialStore("default", keyring_backend=hanging)
    try:
        assert store.lookup("zsc_key") == ("env-key", "env DESKCTL_ZSC_KEY")
        assert "did not answer within 0.2s" in (store.unavailable_reason or "")
        # once it hung, later lookups do not wait again
        assert store.lookup("zoho_client_id") == (None, "not set")
    finally:
        hanging.release.set()


def test_require_names_the_command_and_variable_never_a_value() -> None:
    with pytest.raises(AuthError) as err:
        CredentialStore("default").require("zoho_client_secret")
    assert "deskctl auth set zoho_client_secret" in err.value.message
    assert "DESKCTL_ZOHO_CLIENT_SECRET" in err.value.message


def test_describe_shows_sources_not_values(isolated, monkeypatch) -> None:
    monkeypatch.setenv("DESKCTL_ZOHO_CLIENT_ID", "very-secret-id")
    store = CredentialStore("default")
    store.set("zsc_key", "very-secret-key")
    rows = {r["name"]: r for r in store.describe()}
    assert rows["zsc_key"]["source"] == "keyring"
    assert rows["zoho_client_id"]["source"] == "env DESKCTL_ZOHO_CLIENT_ID"
    assert rows["zoho_refresh_token"]["source"] == "not set"
    assert "very-secret" not in repr(rows)
