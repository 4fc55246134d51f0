from __future__ import annotations

from pathlib import Path


def test_config_show_names_sources(run, tmp_path: Path) -> None:
    (tmp_path / "deskctl.yaml").write_text("profiles:\n  acme:\n    user: a@acme.example\n")
    result = run("--profile", "acme", "-o", "json", "config", "show",
                 env={"DESKCTL_LOCK_TIMEOUT": "7"})
    assert result.exit_code == 0, result.stderr
    settings = {s["key"]: s for s in result.json()["settings"]}
    assert settings["user"]["value"] == "a@acme.example"
    assert "profiles.acme.user" in settings["user"]["source"]
    assert settings["lock_timeout"] == {"key": "lock_timeout", "value": 7.0,
                                        "source": "env DESKCTL_LOCK_TIMEOUT"}
    assert settings["state"]["value"].endswith("acme/state.db")


def test_config_init_refuses_overwrite(run, tmp_path: Path) -> None:
    target = tmp_path / "c.yaml"
    assert run("config", "init", "--path", str(target)).exit_code == 0
    target.write_text("backend: local\n# mine\n")
    result = run("config", "init", "--path", str(target))
    assert result.exit_code == 1
    assert "already exists (use --force" in result.stderr
    assert "# mine" in target.read_text()
    assert run("config", "init", "--path", str(target), "--force").exit_code == 0


def test_auth_set_reads_stdin_and_never_echoes(run, isolated) -> None:
    result = run("auth", "set", "zoho_refresh_token", input="1000.secret.value\n")
    assert result.exit_code == 0, result.stderr
    assert "1000.secret.value" not in result.stdout + result.stderr
    assert isolated.store[("deskctl", "default:zoho_refresh_token")] == "1000.secret.value"
    status = run("auth", "status", "-o", "json")
    assert status.json()["keyring"] == {"backend": "MemoryKeyring", "used": True, "note": None}
    rows = {r["name"]: r["source"] for r in status.json()["credentials"]}
    assert rows["zoho_refresh_token"] == "keyring"
    assert "1000.secret.value" not in status.stdout
    audit = run("audit", "-o", "json").json()
    assert audit[0]["action"] == "auth.set" and audit[0]["target"] == "zoho_refresh_token"
    assert "1000.secret" not in str(audit)


def test_auth_set_refuses_empty_input(run) -> None:
    result = run("auth", "set", "zsc_key", input="\n")
    assert result.exit_code == 2
    assert "no zsc key given" in result.stderr


def test_auth_value_is_not_accepted_in_argv(run) -> None:
    result = run("auth", "set", "zsc_key", "the-secret")
    assert result.exit_code == 2


def test_auth_clear(run, isolated) -> None:
    run("auth", "set", "zsc_key", input="k\n")
    result = run("auth", "clear", "zsc_key")
    assert result.exit_code == 0 and "Removed zsc_key" in result.stderr
    assert isolated.store == {}
    again = run("auth", "clear", "zsc_key")
    assert again.exit_code == 0 and "nothing removed" in again.stderr


def test_audit_empty_and_limit(run) -> None:
    empty = run("audit")
    assert empty.exit_code == 0 and empty.stdout == ""
    assert "No changes recorded." in empty.stderr
    run("sandbox", "seed")
    run("sandbox", "seed")
    assert len(run("audit", "--limit", "1", "-o", "json").json()) == 1
    bad = run("audit", "--limit", "0")
    assert bad.exit_code == 2
