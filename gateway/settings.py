"""Every Kuma setting, read from the environment once and validated at start.

`Settings.from_env()` is the only place in Kuma that reads `os.environ`. Each field names
its environment variable and carries a help text in its metadata, so the README's table
can be generated from `describe()` and checked against it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import ipaddress
import logging
import os
import re
import secrets
import zoneinfo
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from gateway.errors import SettingsError

log = logging.getLogger(__name__)

PACKAGE_ROOT = Path(__file__).resolve().parent.parent
WEEKDAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")
SMS_OUTBOXES = ("provider", "log")
SMS_PROVIDERS = ("africastalking", "twilio")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
SECRET_FILE = "secret_key"

_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_USSD_CODE = re.compile(r"^\*[0-9*]*[0-9]#$")
_DATABASE_SCHEMES = ("sqlite", "postgres", "postgresql")
_REDIS_SCHEMES = ("redis", "rediss", "unix")


def _setting(env: str, help: str, default: Any = None, *, factory: Callable[[], Any] | None = None,
             parse: str = "str", secret: bool = False, default_text: str | None = None,
             empty_ok: bool = False) -> Any:
    """Declare a field read from `env`; `parse` names how its text becomes a value."""
    metadata = {"env": env, "help": help, "parse": parse, "secret": secret,
                "default_text": default_text, "empty_ok": empty_ok}
    if factory is not None:
        return dataclasses.field(default_factory=factory, metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


@dataclasses.dataclass(frozen=True)
class Settings:
    """Kuma's configuration; build it with `from_env()`, or directly in tests."""

    var_dir: Path = _setting(
        "KUMA_VAR_DIR", "Folder for the SQLite file, the embedded Redis and the generated secret.",
        factory=lambda: Path.cwd() / "var", parse="path", default_text="./var")
    database_url: str = _setting(
        "DATABASE_URL", "SQLAlchemy URL of the database (postgresql://… in production).",
        "", default_text="sqlite file var/kuma.db")
    redis_url: str | None = _setting(
        "REDIS_URL", "Redis URL (redis://, rediss:// or unix://); unset: an embedded Redis "
        "server under var/, shared by web, worker and scheduler.", default_text="embedded")
    flows_dir: Path | None = _setting(
        "FLOWS_DIR", "Folder of the YAML survey flows.", parse="path",
        default_text="./flows if present, else the flows/ shipped with Kuma")
    timezone: str = _setting(
        "GATEWAY_TIMEZONE", "IANA time zone for weeks, schedules and quiet hours.",
        "Africa/Bamako")
    secret_key: str | None = _setting(
        "GATEWAY_SECRET_KEY", "Key for phone hashes, encryption at rest and web sessions; "
        "required in production.", secret=True,
        default_text="generated into var/secret_key, with a warning")
    twilio_account_sid: str | None = _setting("TWILIO_ACCOUNT_SID", "Twilio account SID.")
    twilio_auth_token: str | None = _setting(
        "TWILIO_AUTH_TOKEN", "Twilio auth token (also checks X-Twilio-Signature).", secret=True)
    twilio_from: str | None = _setting(
        "TWILIO_FROM", "Twilio sender: a phone number or a messaging service SID.")
    twilio_voice_from: str | None = _setting(
        "TWILIO_VOICE_FROM", "Twilio number calls are placed from (voice).",
        default_text="TWILIO_FROM, when it is a phone number")
    twilio_api_base: str | None = _setting(
        "TWILIO_API_BASE", "Base URL of Twilio's REST API (for stand-ins in tests).")
    twilio_trust_forwarded: bool = _setting(
        "TWILIO_TRUST_FORWARDED", "Trust X-Forwarded-Proto/Host when checking Twilio "
        "signatures (behind a reverse proxy).", False, parse="bool", default_text="false")
    proxy_hops: int = _setting(
        "PROXY_HOPS", "How many reverse proxies stand in front of the web server: their "
        "X-Forwarded-For/-Proto/-Host are trusted for the client's address (login and API "
        "throttles, AT_ALLOWED_NETWORKS) and the public URL. 0: no proxy; never more than "
        "there are, or a client could name any address.", 0, parse="int")
    public_url: str | None = _setting(
        "PUBLIC_URL", "Base URL the providers call (https://…), to print webhook URLs and "
        "rebuild signed URLs.")
    at_username: str | None = _setting("AT_USERNAME", "Africa's Talking username.")
    at_api_key: str | None = _setting("AT_API_KEY", "Africa's Talking API key.", secret=True)
    at_sender: str | None = _setting(
        "AT_SENDER", "Africa's Talking sender ID or short code for outbound SMS.")
    at_webhook_token: str | None = _setting(
        "AT_WEBHOOK_TOKEN", "Secret token Africa's Talking passes as ?token= in callback URLs; "
        "required with AT_USERNAME and AT_API_KEY. Unset, AT's callbacks are refused (403), "
        "except under `gateway serve` on a loopback address.",
        secret=True)
    at_webhook_open_on_loopback: bool = _setting(
        "AT_WEBHOOK_OPEN_ON_LOOPBACK", "Take Africa's Talking callbacks from this machine "
        "without AT_WEBHOOK_TOKEN (set by `gateway serve` on a loopback address); otherwise "
        "they are refused while the token is unset.", False, parse="bool",
        default_text="false")
    at_api_base: str | None = _setting(
        "AT_API_BASE", "Base URL of Africa's Talking's API (for stand-ins in tests).")
    at_allowed_networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = _setting(
        "AT_ALLOWED_NETWORKS", "Comma-separated CIDRs Africa's Talking webhooks may come "
        "from; empty: any.", (), parse="networks", default_text="any")
    at_ussd_base_codes: tuple[str, ...] = _setting(
        "AT_USSD_BASE_CODES", "Comma-separated USSD base codes (e.g. *384*123#) whose "
        "extensions name a centre.", (), parse="list", default_text="none")
    sms_outbox: str = _setting(
        "SMS_OUTBOX", "`provider`: send outbound SMS; `log`: write them to the database and "
        "log only.", "", default_text="log when no provider is configured, else provider")
    sms_provider: str | None = _setting(
        "SMS_PROVIDER", "Provider for outbound SMS: africastalking or twilio.",
        default_text="whichever is configured, Africa's Talking first")
    ussd_max_chars: int = _setting(
        "USSD_MAX_CHARS", "Longest USSD answer, CON/END prefix included.", 182, parse="int")
    ussd_session_ttl: int = _setting(
        "USSD_SESSION_TTL", "Seconds a USSD session's state is kept in Redis.", 180, parse="int")
    ussd_resume_window: int = _setting(
        "USSD_RESUME_WINDOW", "Seconds after a dropped USSD session in which dialling again "
        "resumes it.", 120, parse="int")
    sms_rate_per_second: float = _setting(
        "SMS_RATE_PER_SECOND", "Most outbound SMS sent per second.", 5.0, parse="float")
    min_respondents: int = _setting(
        "MIN_RESPONDENTS", "Fewest respondents for a score to be shown.", 10, parse="int")
    summary_schedule: str = _setting(
        "SUMMARY_SCHEDULE", "When weekly summaries go out: weekday and local time.",
        "MON 08:00")
    invitation_delay: int = _setting(
        "INVITATION_DELAY", "Minutes after a visit before the survey invitation is sent.",
        120, parse="int")
    quiet_hours: str = _setting(
        "QUIET_HOURS", "Local hours without outbound invitations (HH:MM-HH:MM); empty: none.",
        "21:00-07:00", empty_ok=True)
    invitation_min_interval: int = _setting(
        "INVITATION_MIN_INTERVAL", "Fewest days between two invitations to one contact.",
        7, parse="int")
    at_voice_number: str | None = _setting(
        "AT_VOICE_NUMBER", "Africa's Talking voice number (E.164) that places the survey calls "
        "and that mothers may call (rejected, free, and called back).")
    voice_provider: str | None = _setting(
        "VOICE_PROVIDER", "Provider for outbound survey calls: africastalking or twilio.",
        default_text="africastalking when AT_VOICE_NUMBER and its credentials are set, else "
        "twilio when TWILIO_VOICE_FROM and its credentials are")
    voice_max_attempts: int = _setting(
        "VOICE_MAX_ATTEMPTS", "Most times one call is placed when she does not answer "
        "(no answer, busy, failed).", 3, parse="int")
    voice_retry_minutes: int = _setting(
        "VOICE_RETRY_MINUTES", "Minutes between two attempts of an unanswered call (moved out "
        "of the quiet hours).", 30, parse="int")
    voice_calls_per_second: float = _setting(
        "VOICE_CALLS_PER_SECOND", "Most outbound calls placed per second.", 1.0, parse="float")
    voice_resume_window: int = _setting(
        "VOICE_RESUME_WINDOW", "Seconds after a dropped call in which the next call (a call "
        "back, or hers) resumes the survey at the same question.", 1800, parse="int")
    log_level: str = _setting("LOG_LEVEL", "Log level: DEBUG, INFO, WARNING or ERROR.", "INFO")
    filing_stall_seconds: int = _setting(
        "FILING_STALL_SECONDS", "Seconds the oldest answer may wait to be filed into SQL "
        "before /healthz answers 503 (the worker is down or filing is stuck).", 300,
        parse="int")

    def __post_init__(self) -> None:
        for name, value in _resolve(dataclasses.asdict(self)).items():
            object.__setattr__(self, name, value)
        problems = _check(self)
        if problems:
            raise _settings_error(problems)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, *,
                 ensure_secret: bool = False) -> Settings:
        """Build Settings from `environ` (default os.environ); raise SettingsError on bad values.

        With `ensure_secret`, a missing GATEWAY_SECRET_KEY is read from (or generated into)
        var_dir/secret_key; without it, building Settings touches no file.
        """
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        problems: list[str] = []
        for field in dataclasses.fields(cls):
            text = environ.get(field.metadata["env"])
            if text is None:
                continue
            if not text.strip():
                # An empty variable means the default, except where empty has a meaning
                # of its own (QUIET_HOURS= : no quiet hours).
                if field.metadata["empty_ok"]:
                    values[field.name] = ""
                continue
            try:
                values[field.name] = _PARSERS[field.metadata["parse"]](text.strip())
            except ValueError as error:
                problems.append(f"{field.metadata['env']}: {error}")
        flows_dir = values.get("flows_dir")
        if flows_dir is not None and not flows_dir.is_dir():
            problems.append(f"FLOWS_DIR: {flows_dir} is not a folder")
            del values["flows_dir"]
        try:
            settings = cls(**values)
        except SettingsError as error:
            raise _settings_error(problems + error.problems) from None
        if settings.at_configured and not settings.at_webhook_token:
            # Without it anyone who finds the callback URL can post answers or opt-outs.
            problems.append("AT_WEBHOOK_TOKEN: required when AT_USERNAME and AT_API_KEY are "
                            "set; use a long random value and add it as ?token= to the "
                            "callback URLs")
        if problems:
            raise _settings_error(problems)
        if ensure_secret:
            settings = ensure_secret_key(settings)
        return settings

    def replace(self, **changes: Any) -> Settings:
        """Return a copy with `changes` applied (and validated)."""
        return dataclasses.replace(self, **changes)

    @property
    def at_configured(self) -> bool:
        """Whether Africa's Talking credentials for outbound SMS are set."""
        return bool(self.at_username and self.at_api_key)

    @property
    def twilio_configured(self) -> bool:
        """Whether Twilio credentials for outbound SMS are set."""
        return bool(self.twilio_account_sid and self.twilio_auth_token and self.twilio_from)

    @property
    def twilio_voice_number(self) -> str | None:
        """Return the Twilio number calls come from: TWILIO_VOICE_FROM, else a TWILIO_FROM number."""
        if self.twilio_voice_from:
            return self.twilio_voice_from
        # A messaging service ("MG…") sends SMS from a pool; it cannot place a call.
        if self.twilio_from and not self.twilio_from.startswith("MG"):
            return self.twilio_from
        return None

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        """The configured time zone."""
        return zoneinfo.ZoneInfo(self.timezone)

    @property
    def summary_weekday(self) -> int:
        """Weekday of the weekly summaries, Monday = 0."""
        return WEEKDAYS.index(self.summary_schedule.split()[0].upper())

    @property
    def summary_time(self) -> dt.time:
        """Local time of day of the weekly summaries."""
        return _clock(self.summary_schedule.split()[1])

    @property
    def quiet_window(self) -> tuple[dt.time, dt.time] | None:
        """Start and end of the quiet hours (the window may cross midnight), or None."""
        if not self.quiet_hours:
            return None
        start, end = self.quiet_hours.split("-")
        return _clock(start.strip()), _clock(end.strip())

    def __repr__(self) -> str:
        shown = []
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if field.metadata["secret"] and value:
                value = "***"
            shown.append(f"{field.name}={value!r}")
        return f"Settings({', '.join(shown)})"


def ensure_secret_key(settings: Settings) -> Settings:
    """Return `settings` with a secret key, reading or generating var_dir/secret_key."""
    if settings.secret_key:
        return settings
    path = settings.var_dir / SECRET_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write aside, then link: two processes starting together agree on one key.
        draft = path.with_name(f".{SECRET_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(48) + "\n")
        try:
            os.link(draft, path)
            log.warning("GATEWAY_SECRET_KEY is not set: generated one into %s; set it in "
                        "production and keep it, or phone hashes will not match", path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    key = path.read_text(encoding="utf-8").strip()
    if not key:
        raise SettingsError(f"GATEWAY_SECRET_KEY: unset and {path} is empty")
    return settings.replace(secret_key=key)


def require_secret_key(settings: Settings, role: str) -> Settings:
    """Return `settings` if they have a secret key; else refuse to start `role`.

    Only `gateway serve` (one machine, one folder) may generate the key: a web, worker or
    scheduler started on its own may run in another folder or on another machine, where a
    generated key would differ, and phone hashes and encrypted numbers would not match.
    """
    if settings.secret_key:
        return settings
    raise SettingsError(
        f"GATEWAY_SECRET_KEY: required to start the {role} outside `gateway serve`; set the "
        "same long random value for every process, e.g. from "
        "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`")


def describe() -> list[tuple[str, str, str]]:
    """List (environment variable, default, help) for every setting, in declaration order."""
    rows = []
    for field in dataclasses.fields(Settings):
        default = field.metadata["default_text"]
        if default is None:
            default = "unset" if field.default in (None, "", ()) else str(field.default)
        rows.append((field.metadata["env"], default, field.metadata["help"]))
    return rows


def markdown_table() -> str:
    """Render `describe()` as the README's Markdown table."""
    lines = ["| variable | default | meaning |", "| --- | --- | --- |"]
    lines += [f"| `{env}` | {default} | {help} |" for env, default, help in describe()]
    return "\n".join(lines) + "\n"


def _parse_bool(text: str) -> bool:
    lowered = text.lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"expected true or false, got {text!r}")


def _parse_int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"expected a whole number, got {text!r}") from None


def _parse_float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"expected a number, got {text!r}") from None


def _parse_list(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _parse_networks(text: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    networks = []
    for part in _parse_list(text):
        try:
            networks.append(ipaddress.ip_network(part, strict=False))
        except ValueError:
            raise ValueError(f"{part!r} is not a network such as 196.201.214.0/24") from None
    return tuple(networks)


_PARSERS: dict[str, Callable[[str], Any]] = {
    "str": lambda text: text,
    "path": lambda text: Path(text).expanduser(),
    "bool": _parse_bool,
    "int": _parse_int,
    "float": _parse_float,
    "list": _parse_list,
    "networks": _parse_networks,
}


def _clock(text: str) -> dt.time:
    match = _CLOCK.match(text)
    if not match:
        raise ValueError(f"expected a time such as 08:00, got {text!r}")
    return dt.time(int(match.group(1)), int(match.group(2)))


def _resolve(values: dict[str, Any]) -> dict[str, Any]:
    """Fill the defaults that depend on other settings or on the current folder."""
    var_dir = Path(values["var_dir"]).expanduser().resolve()
    resolved: dict[str, Any] = {"var_dir": var_dir}
    if not values["database_url"]:
        resolved["database_url"] = f"sqlite:///{var_dir / 'kuma.db'}"
    if values["flows_dir"] is None:
        local = Path.cwd() / "flows"
        resolved["flows_dir"] = local if local.is_dir() else PACKAGE_ROOT / "flows"
    else:
        resolved["flows_dir"] = Path(values["flows_dir"]).expanduser().resolve()
    if isinstance(values["at_allowed_networks"], str):
        resolved["at_allowed_networks"] = _parse_networks(values["at_allowed_networks"])
    else:
        resolved["at_allowed_networks"] = tuple(
            ipaddress.ip_network(n, strict=False) for n in values["at_allowed_networks"])
    if isinstance(values["at_ussd_base_codes"], str):
        resolved["at_ussd_base_codes"] = _parse_list(values["at_ussd_base_codes"])
    else:
        resolved["at_ussd_base_codes"] = tuple(values["at_ussd_base_codes"])
    if values["public_url"]:
        resolved["public_url"] = values["public_url"].rstrip("/")
    at_ready = bool(values["at_username"] and values["at_api_key"])
    twilio_ready = bool(values["twilio_account_sid"] and values["twilio_auth_token"]
                        and values["twilio_from"])
    if not values["sms_provider"]:
        resolved["sms_provider"] = ("africastalking" if at_ready
                                    else "twilio" if twilio_ready else None)
    if not values["sms_outbox"]:
        resolved["sms_outbox"] = "provider" if at_ready or twilio_ready else "log"
    if not values["voice_provider"] and at_ready and values["at_voice_number"]:
        resolved["voice_provider"] = "africastalking"
    elif (not values["voice_provider"] and values["twilio_account_sid"]
          and values["twilio_auth_token"] and values["twilio_voice_from"]):
        resolved["voice_provider"] = "twilio"
    resolved["log_level"] = str(values["log_level"]).upper()
    return resolved


def _check(settings: Settings) -> list[str]:
    """Return one message per unusable setting, each naming its variable."""
    problems = []
    scheme = settings.database_url.split(":", 1)[0].split("+", 1)[0]
    if scheme not in _DATABASE_SCHEMES:
        problems.append("DATABASE_URL: expected a sqlite:// or postgresql:// URL")
    if settings.redis_url and settings.redis_url.split(":", 1)[0] not in _REDIS_SCHEMES:
        problems.append("REDIS_URL: expected a redis://, rediss:// or unix:// URL")
    try:
        zoneinfo.ZoneInfo(settings.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        problems.append(f"GATEWAY_TIMEZONE: unknown time zone {settings.timezone!r} "
                        "(expected e.g. Africa/Bamako)")
    for name in ("public_url", "twilio_api_base", "at_api_base"):
        value = getattr(settings, name)
        if value and not re.match(r"^https?://[^/\s]+", value):
            problems.append(f"{name.upper()}: expected an http:// or https:// URL, got {value!r}")
    twilio = {"TWILIO_ACCOUNT_SID": settings.twilio_account_sid,
              "TWILIO_AUTH_TOKEN": settings.twilio_auth_token}
    if any(twilio.values()):
        problems += [f"{env}: missing (the other Twilio credentials are set)"
                     for env, value in twilio.items() if not value]
    if bool(settings.at_username) != bool(settings.at_api_key):
        missing = "AT_API_KEY" if settings.at_username else "AT_USERNAME"
        problems.append(f"{missing}: missing (the other Africa's Talking credential is set)")
    for code in settings.at_ussd_base_codes:
        if not _USSD_CODE.match(code):
            problems.append(f"AT_USSD_BASE_CODES: {code!r} is not a USSD code such as *384*123#")
    if settings.sms_outbox not in SMS_OUTBOXES:
        problems.append(f"SMS_OUTBOX: expected provider or log, got {settings.sms_outbox!r}")
    if settings.sms_provider is not None and settings.sms_provider not in SMS_PROVIDERS:
        problems.append(f"SMS_PROVIDER: expected africastalking or twilio, "
                        f"got {settings.sms_provider!r}")
    elif settings.sms_provider == "africastalking" and not settings.at_configured:
        problems.append("SMS_PROVIDER: africastalking needs AT_USERNAME and AT_API_KEY")
    elif settings.sms_provider == "twilio" and not settings.twilio_configured:
        problems.append("SMS_PROVIDER: twilio needs TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN "
                        "and TWILIO_FROM")
    problems += _check_voice(settings)
    if settings.sms_outbox == "provider" and settings.sms_provider is None:
        problems.append("SMS_OUTBOX: provider needs Africa's Talking or Twilio credentials "
                        "(or set SMS_OUTBOX=log)")
    bounds = {"ussd_max_chars": (20, 182), "ussd_session_ttl": (10, 86400),
              "ussd_resume_window": (0, 86400), "min_respondents": (1, 100000),
              "invitation_delay": (0, 60 * 24 * 30), "invitation_min_interval": (0, 3650),
              "filing_stall_seconds": (10, 7 * 86400), "proxy_hops": (0, 5)}
    for name, (low, high) in bounds.items():
        value = getattr(settings, name)
        if not low <= value <= high:
            problems.append(f"{name.upper()}: expected {low} to {high}, got {value}")
    if not settings.sms_rate_per_second > 0:
        problems.append(f"SMS_RATE_PER_SECOND: expected more than 0, "
                        f"got {settings.sms_rate_per_second}")
    parts = settings.summary_schedule.split()
    if len(parts) != 2 or parts[0].upper() not in WEEKDAYS or not _CLOCK.match(parts[1]):
        problems.append(f"SUMMARY_SCHEDULE: expected a weekday and time such as 'MON 08:00', "
                        f"got {settings.summary_schedule!r}")
    if settings.quiet_hours:
        window = [part.strip() for part in settings.quiet_hours.split("-")]
        if len(window) != 2 or not all(_CLOCK.match(part) for part in window):
            problems.append(f"QUIET_HOURS: expected HH:MM-HH:MM such as 21:00-07:00, "
                            f"got {settings.quiet_hours!r}")
    if settings.log_level not in LOG_LEVELS:
        problems.append(f"LOG_LEVEL: expected one of {', '.join(LOG_LEVELS)}, "
                        f"got {settings.log_level!r}")
    return problems


def _settings_error(problems: list[str]) -> SettingsError:
    """Build one SettingsError listing every problem; `problems` keeps them for merging."""
    error = SettingsError("bad settings:\n" + "\n".join(f"  {problem}" for problem in problems))
    error.problems = problems
    return error


def _check_voice(settings: Settings) -> list[str]:
    """Return the problems of the voice settings, each naming its variable."""
    problems = []
    if settings.voice_provider is not None and settings.voice_provider not in SMS_PROVIDERS:
        problems.append(f"VOICE_PROVIDER: expected africastalking or twilio, "
                        f"got {settings.voice_provider!r}")
    elif settings.voice_provider == "africastalking" and not (
            settings.at_configured and settings.at_voice_number):
        problems.append("VOICE_PROVIDER: africastalking needs AT_USERNAME, AT_API_KEY and "
                        "AT_VOICE_NUMBER")
    elif settings.voice_provider == "twilio" and not (
            settings.twilio_account_sid and settings.twilio_auth_token
            and settings.twilio_voice_number):
        problems.append("VOICE_PROVIDER: twilio needs TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and "
                        "TWILIO_VOICE_FROM (or a TWILIO_FROM that is a phone number)")
    for name, low, high in (("voice_max_attempts", 1, 10), ("voice_retry_minutes", 1, 1440),
                            ("voice_resume_window", 0, 86400)):
        value = getattr(settings, name)
        if not low <= value <= high:
            problems.append(f"{name.upper()}: expected {low} to {high}, got {value}")
    if settings.voice_calls_per_second <= 0:
        problems.append("VOICE_CALLS_PER_SECOND: expected a number above 0")
    return problems
