"""Settings: the example file loads, the environment overrides the file, mistakes are named."""
from __future__ import annotations

from pathlib import Path

import pytest

from fhiradapter.intake.config import ConfigError, load_config

from .conftest import REPO, cli


def test_example_config_and_environment_overrides(tmp_path: Path) -> None:
    example = REPO / "examples" / "intake" / "intake.toml"
    config = load_config(example, env={"FHIRADAPTER_INTAKE_LEDGER_DSN": "postgresql://intake@db/intake",
                                       "FHIRADAPTER_INTAKE_LIMITS_MAX_ENTRIES": "250"})
    assert config.server.port == 8090 and config.upstream.url == "http://127.0.0.1:8080/fhir"
    assert config.ledger.dsn == "postgresql://intake@db/intake" and config.limits.max_entries == 250
    assert config.data_dir == REPO / "intake-data"   # relative to the file
    config.check_safe()   # loopback without auth is fine


@pytest.mark.parametrize("text,env,message", [
    ("[server]\nprot = 1\n", {}, "unknown setting server.prot"),
    ("[limits]\nmax_entries = 'many'\n", {}, "limits.max_entries must be a int"),
    ("[server\n", {}, "not valid TOML"),
    ("", {"FHIRADAPTER_INTAKE_SERVER_PORTT": "1"}, "environment FHIRADAPTER_INTAKE_SERVER_PORTT: unknown setting"),
])
def test_mistakes_are_named(tmp_path: Path, text: str, env: dict[str, str], message: str) -> None:
    path = tmp_path / "c.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message.replace("[", r"\[")):
        load_config(path, env=env)


def test_public_interface_needs_issuer_and_audience_too(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[server]\nhost = "0.0.0.0"\n[auth]\njwks_file = "jwks.json"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="issuer and audience are required"):
        load_config(path, env={}).check_safe()
    result = cli("serve", "--config", str(path))
    assert result.returncode == 2 and "issuer and audience are required" in result.stderr


def test_help_explains() -> None:
    result = cli("serve", "--help")
    assert result.returncode == 0
    for text in ("/metadata", "$validate", "transaction/batch Bundle", "FHIRADAPTER_INTAKE_", "loopback"):
        assert text in result.stdout
