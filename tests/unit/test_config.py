from __future__ import annotations

import re
from pathlib import Path

import pytest

from deskctl.config import init_config, load_config
from deskctl.errors import ConfigError, UsageError


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_defaults_without_any_file() -> None:
    config = load_config()
    assert config.path is None
    assert config.backend == "local"
    assert config.sources["backend"] == "default"
    assert config.state_path.name == "state.db"


def test_lookup_order_flag_env_cwd_user_dir(tmp_path: Path, monkeypatch) -> None:
    user = write(tmp_path / "config" / "config.yaml", "output: yaml\n")
    assert load_config().path == user
    cwd = write(tmp_path / "deskctl.yaml", "output: json\n")
    assert load_config().path == Path("deskctl.yaml")
    assert load_config().output == "json"
    env = write(tmp_path / "env.yaml", "output: table\n")
    monkeypatch.setenv("DESKCTL_CONFIG", str(env))
    assert load_config().path == env
    flag = write(tmp_path / "flag.yaml", "output: yaml\n")
    assert load_config(str(flag)).path == flag
    assert cwd.exists()


def test_profile_overrides_top_level_and_env_overrides_profile(tmp_path: Path,
                                                               monkeypatch) -> None:
    path = write(tmp_path / "c.yaml", "user: a@x.example\nprofiles:\n  acme:\n"
                                      "    user: b@x.example\n    lock_timeout: 5\n")
    assert load_config(str(path)).user == "a@x.example"
    acme = load_config(str(path), "acme")
    assert (acme.user, acme.lock_timeout) == ("b@x.example", 5.0)
    assert "profiles.acme.user" in acme.sources["user"]
    monkeypatch.setenv("DESKCTL_USER", "c@x.example")
    assert load_config(str(path), "acme").user == "c@x.example"
    assert load_config(str(path), "acme").sources["user"] == "env DESKCTL_USER"
    flagged = load_config(str(path), "acme", {"user": "d@x.example"})
    assert (flagged.user, flagged.sources["user"]) == ("d@x.example", "command line")


def test_profile_state_paths_differ(tmp_path: Path) -> None:
    path = write(tmp_path / "c.yaml", "profiles:\n  acme: {}\n")
    assert load_config(str(path)).state_path != load_config(str(path), "acme").state_path


def test_every_problem_is_reported_at_once_with_key_and_file(tmp_path: Path) -> None:
    path = write(tmp_path / "c.yaml", "bakend: local\noutput: xml\nlock_timeout: soon\n"
                                      "local:\n  pth: x\n")
    with pytest.raises(ConfigError) as err:
        load_config(str(path))
    problems = "\n".join(err.value.problems)
    assert len(err.value.problems) == 4
    assert f"{path}: unknown key bakend (line 1)" in problems
    assert "unknown key local.pth (line 5)" in problems
    assert "expected one of table, wide, json, yaml, got 'xml'" in problems
    assert "expected a number, got 'soon'" in problems


def test_secrets_in_the_config_file_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "c.yaml", "zoho_refresh_token: abc\n")
    with pytest.raises(ConfigError) as err:
        load_config(str(path))
    assert "secrets do not belong in the config file" in err.value.problems[0]
    assert "abc" not in " ".join(err.value.problems)


def test_malformed_yaml_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path / "c.yaml", "backend: local\noutput: [table\n")
    with pytest.raises(ConfigError) as err:
        load_config(str(path))
    assert str(path) in err.value.message and "line" in err.value.message


def test_unknown_profile_lists_the_available_ones(tmp_path: Path) -> None:
    path = write(tmp_path / "c.yaml", "profiles:\n  acme: {}\n")
    with pytest.raises(ConfigError, match="unknown profile 'acmee' .available: default, acme"):
        load_config(str(path), "acmee")


def test_missing_config_flag_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(str(tmp_path / "nope.yaml"))


def test_env_value_of_wrong_type_names_the_variable(monkeypatch) -> None:
    monkeypatch.setenv("DESKCTL_LOCK_TIMEOUT", "-3")
    with pytest.raises(ConfigError) as err:
        load_config()
    assert err.value.problems == ["env DESKCTL_LOCK_TIMEOUT: must not be negative, got '-3'"]


def test_bad_flag_value_is_a_usage_error() -> None:
    with pytest.raises(UsageError):
        load_config(flags={"lock_timeout": "x"})


def test_init_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    target = tmp_path / "new.yaml"
    assert init_config(target, force=False) == target
    target.write_text("output: json\n")
    with pytest.raises(ConfigError, match="already exists"):
        init_config(target, force=False)
    assert target.read_text() == "output: json\n"
    init_config(target, force=True)
    assert load_config(str(target)).backend == "local"


def test_example_config_loads_and_documents_every_key() -> None:
    from deskctl.config import KEYS

    example = Path(__file__).resolve().parents[2] / "config.example.yaml"
    text = example.read_text()
    for key in KEYS:
        assert key.name.split(".")[-1] + ":" in text, key.name
        assert key.env in text, key.env
    # commented-out settings are "# key: value" lines; switch them all on
    uncommented = re.sub(r"(?m)^(\s*)# (\s*[a-z_]+:.*)$", r"\1\2", text)
    Path("uncommented.yaml").write_text(uncommented)
    assert load_config("uncommented.yaml").backend == "local"
