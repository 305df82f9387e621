"""Settings: read from the environment once, every bad value named, defaults that fit."""

from __future__ import annotations

import ipaddress
import logging
import os
import stat
from pathlib import Path

import pytest

from gateway import settings as settings_module
from gateway.errors import SettingsError
from gateway.settings import Settings, describe, ensure_secret_key, markdown_table

AT = {"AT_USERNAME": "kuma", "AT_API_KEY": "at-key", "AT_WEBHOOK_TOKEN": "hook-token"}
TWILIO = {"TWILIO_ACCOUNT_SID": "AC123", "TWILIO_AUTH_TOKEN": "tok", "TWILIO_FROM": "+22370000000"}


def test_defaults_from_an_empty_environment(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)

    settings = Settings.from_env({})

    assert settings.var_dir == tmp_path.resolve() / "var"
    assert settings.database_url == f"sqlite:///{tmp_path.resolve() / 'var' / 'kuma.db'}"
    assert settings.redis_url is None
    assert settings.flows_dir == settings_module.PACKAGE_ROOT / "flows"
    assert settings.timezone == "Africa/Bamako"
    assert settings.secret_key is None
    assert settings.sms_outbox == "log"
    assert settings.sms_provider is None
    assert (settings.ussd_max_chars, settings.ussd_session_ttl, settings.ussd_resume_window) \
        == (182, 180, 120)
    assert (settings.min_respondents, settings.invitation_delay,
            settings.invitation_min_interval) == (10, 120, 7)
    assert settings.summary_weekday == 0 and settings.summary_time.hour == 8
    assert [t.hour for t in settings.quiet_window] == [21, 7]
    assert settings.log_level == "INFO"
    assert not settings.at_configured and not settings.twilio_configured


def test_building_settings_touches_no_file(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)

    Settings.from_env({})

    assert list(tmp_path.iterdir()) == []


def test_local_flows_folder_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "flows").mkdir()
    monkeypatch.chdir(tmp_path)

    assert Settings.from_env({}).flows_dir == tmp_path.resolve() / "flows"


def test_empty_variables_mean_the_default_except_quiet_hours() -> None:
    settings = Settings.from_env({"LOG_LEVEL": "", "GATEWAY_TIMEZONE": " ", "USSD_MAX_CHARS": "",
                                  "SMS_OUTBOX": "", "QUIET_HOURS": ""})

    assert (settings.log_level, settings.timezone, settings.ussd_max_chars,
            settings.sms_outbox) == ("INFO", "Africa/Bamako", 182, "log")
    assert settings.quiet_window is None


def test_reads_os_environ_by_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUMA_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("MIN_RESPONDENTS", "5")

    settings = Settings.from_env()

    assert settings.var_dir == tmp_path.resolve()
    assert settings.min_respondents == 5


def test_values_are_parsed() -> None:
    settings = Settings.from_env({
        **AT, "AT_ALLOWED_NETWORKS": "196.201.214.0/24, 2001:db8::/32",
        "AT_USSD_BASE_CODES": "*384*123#,*384*7#", "TWILIO_TRUST_FORWARDED": "yes",
        "SMS_RATE_PER_SECOND": "0.5", "QUIET_HOURS": "", "PUBLIC_URL": "https://kuma.example/",
        "SUMMARY_SCHEDULE": "fri 17:30", "LOG_LEVEL": "debug",
        "DATABASE_URL": "postgres://kuma@db/kuma"})

    assert settings.at_allowed_networks == (ipaddress.ip_network("196.201.214.0/24"),
                                            ipaddress.ip_network("2001:db8::/32"))
    assert settings.at_ussd_base_codes == ("*384*123#", "*384*7#")
    assert settings.twilio_trust_forwarded is True
    assert settings.sms_rate_per_second == 0.5
    assert settings.quiet_window is None
    assert settings.public_url == "https://kuma.example"
    assert settings.summary_weekday == 4 and settings.summary_time.minute == 30
    assert settings.log_level == "DEBUG"
    assert settings.database_url == "postgres://kuma@db/kuma"


@pytest.mark.parametrize(("environ", "provider", "outbox"), [
    ({}, None, "log"),
    (AT, "africastalking", "provider"),
    (TWILIO, "twilio", "provider"),
    ({**AT, **TWILIO}, "africastalking", "provider"),
    ({**AT, **TWILIO, "SMS_PROVIDER": "twilio"}, "twilio", "provider"),
    ({**AT, "SMS_OUTBOX": "log"}, "africastalking", "log"),
])
def test_provider_and_outbox_follow_what_is_configured(environ, provider, outbox) -> None:
    settings = Settings.from_env(environ)

    assert (settings.sms_provider, settings.sms_outbox) == (provider, outbox)


def test_every_bad_value_is_named_in_one_error() -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({
            "USSD_MAX_CHARS": "lots", "GATEWAY_TIMEZONE": "Africa/Atlantis",
            "AT_ALLOWED_NETWORKS": "10.0.0.0/8,nowhere", "SMS_OUTBOX": "provider",
            "TWILIO_TRUST_FORWARDED": "perhaps", "SUMMARY_SCHEDULE": "someday",
            "QUIET_HOURS": "late", "REDIS_URL": "http://redis", "USSD_SESSION_TTL": "0",
            "AT_USSD_BASE_CODES": "384", "LOG_LEVEL": "LOUD", "PUBLIC_URL": "kuma.example"})

    message = str(caught.value)
    for expected in [
        "USSD_MAX_CHARS: expected a whole number, got 'lots'",
        "GATEWAY_TIMEZONE: unknown time zone 'Africa/Atlantis'",
        "AT_ALLOWED_NETWORKS: 'nowhere' is not a network",
        "SMS_OUTBOX: provider needs Africa's Talking or Twilio credentials",
        "TWILIO_TRUST_FORWARDED: expected true or false, got 'perhaps'",
        "SUMMARY_SCHEDULE: expected a weekday and time such as 'MON 08:00'",
        "QUIET_HOURS: expected HH:MM-HH:MM",
        "REDIS_URL: expected a redis://, rediss:// or unix:// URL",
        "USSD_SESSION_TTL: expected 10 to 86400, got 0",
        "AT_USSD_BASE_CODES: '384' is not a USSD code",
        "LOG_LEVEL: expected one of",
        "PUBLIC_URL: expected an http:// or https:// URL",
    ]:
        assert expected in message
    assert len(caught.value.problems) == 12


@pytest.mark.parametrize(("environ", "expected"), [
    ({"TWILIO_ACCOUNT_SID": "AC1"}, "TWILIO_AUTH_TOKEN: missing"),
    ({"AT_API_KEY": "k"}, "AT_USERNAME: missing"),
    ({**AT, "SMS_PROVIDER": "twilio"}, "SMS_PROVIDER: twilio needs"),
    ({"SMS_PROVIDER": "orange"}, "SMS_PROVIDER: expected africastalking or twilio"),
    ({"USSD_MAX_CHARS": "200"}, "USSD_MAX_CHARS: expected 20 to 182, got 200"),
    ({"DATABASE_URL": "mysql://x/y"}, "DATABASE_URL: expected a sqlite:// or postgresql://"),
    ({"FLOWS_DIR": "/nonexistent/flows"}, "FLOWS_DIR: /nonexistent/flows is not a folder"),
])
def test_inconsistent_settings_are_refused(environ, expected) -> None:
    with pytest.raises(SettingsError, match=expected.replace("*", r"\*")):
        Settings.from_env(environ)


def test_africas_talking_credentials_need_a_webhook_token() -> None:
    with pytest.raises(SettingsError, match="AT_WEBHOOK_TOKEN: required"):
        Settings.from_env({"AT_USERNAME": "kuma", "AT_API_KEY": "at-key"})


def test_secrets_never_show_in_errors_or_repr() -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"AT_API_KEY": "very-secret-key"})
    assert "very-secret-key" not in str(caught.value)

    settings = Settings.from_env({**AT, "GATEWAY_SECRET_KEY": "s3cr3t"})
    assert "s3cr3t" not in repr(settings) and "at-key" not in repr(settings)


def test_direct_construction_is_validated_too(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="GATEWAY_TIMEZONE"):
        Settings(var_dir=tmp_path, timezone="Nowhere/Town")


def test_replace_keeps_other_values(tmp_path: Path) -> None:
    settings = Settings(var_dir=tmp_path, secret_key="a")

    changed = settings.replace(min_respondents=3)

    assert changed.min_respondents == 3
    assert changed.secret_key == "a" and changed.var_dir == settings.var_dir
    with pytest.raises(SettingsError, match="MIN_RESPONDENTS"):
        settings.replace(min_respondents=0)


def test_settings_are_frozen(tmp_path: Path) -> None:
    settings = Settings(var_dir=tmp_path)
    with pytest.raises(AttributeError):
        settings.min_respondents = 3  # type: ignore[misc]


def test_secret_is_generated_once_privately_with_a_warning(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    environ = {"KUMA_VAR_DIR": str(tmp_path / "var")}

    with caplog.at_level(logging.WARNING, logger="gateway.settings"):
        first = Settings.from_env(environ, ensure_secret=True)
    second = Settings.from_env(environ, ensure_secret=True)

    path = tmp_path / "var" / "secret_key"
    assert len(first.secret_key) >= 32
    assert second.secret_key == first.secret_key
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert [r.levelname for r in caplog.records] == ["WARNING"]
    assert "GATEWAY_SECRET_KEY is not set" in caplog.text
    assert first.secret_key not in caplog.text
    assert sorted(p.name for p in path.parent.iterdir()) == ["secret_key"]


def test_a_set_secret_key_wins_and_writes_nothing(tmp_path: Path) -> None:
    settings = Settings.from_env({"KUMA_VAR_DIR": str(tmp_path), "GATEWAY_SECRET_KEY": "k"},
                                 ensure_secret=True)

    assert settings.secret_key == "k"
    assert ensure_secret_key(settings) is settings
    assert list(tmp_path.iterdir()) == []


def test_every_setting_is_described() -> None:
    rows = describe()
    envs = [env for env, _, _ in rows]

    assert len(envs) == len(set(envs)) == 41
    assert all(help_text.strip() for _, _, help_text in rows)
    table = markdown_table()
    assert "| `GATEWAY_TIMEZONE` | Africa/Bamako |" in table
    assert "| `USSD_MAX_CHARS` | 182 |" in table
