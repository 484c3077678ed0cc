"""Settings from the environment: every problem named at start."""

from __future__ import annotations

import pytest

from connector.config import ConfigError, Settings


def test_no_credentials_means_sandbox_with_open_access() -> None:
    settings = Settings.from_env({})
    assert settings.sandbox and settings.open_access
    assert settings.database_url == "sqlite:///lto-connector.db"


def test_live_settings() -> None:
    settings = Settings.from_env(
        {
            "KALEYRA_SID": "S1",
            "KALEYRA_API_KEY": "kal-secret",
            "KALEYRA_SENDER": "919900112233",
            "CONNECTOR_API_KEYS": "a-secret, b-secret,",
            "KALEYRA_POD": "EU",
            "CONNECTOR_DEFAULT_REGION": "in",
        }
    )
    assert not settings.sandbox and settings.api_keys == ("a-secret", "b-secret")
    assert settings.sender_e164 == "+919900112233"
    assert (settings.kaleyra_pod, settings.default_region) == ("eu", "IN")
    assert "secret" not in repr(settings)


@pytest.mark.parametrize(
    ("env", "fragment"),
    [
        ({"KALEYRA_SID": "S1"}, "KALEYRA_API_KEY, KALEYRA_SENDER"),
        (
            {"KALEYRA_SID": "S", "KALEYRA_API_KEY": "k", "KALEYRA_SENDER": "+919900112233"},
            "CONNECTOR_API_KEYS",
        ),
        ({"KALEYRA_POD": "us"}, "KALEYRA_POD"),
        ({"CONNECTOR_DEFAULT_REGION": "XX"}, "CONNECTOR_DEFAULT_REGION"),
        ({"CONNECTOR_DEFAULT_LANGUAGE": "english"}, "CONNECTOR_DEFAULT_LANGUAGE"),
        ({"KALEYRA_READ_TIMEOUT": "soon"}, "KALEYRA_READ_TIMEOUT"),
        (
            {
                "KALEYRA_SID": "S",
                "KALEYRA_API_KEY": "k",
                "KALEYRA_SENDER": "12",
                "CONNECTOR_API_KEYS": "a",
            },
            "KALEYRA_SENDER",
        ),
    ],
)
def test_each_problem_is_named(env: dict[str, str], fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        Settings.from_env(env)
    assert fragment in str(info.value)
