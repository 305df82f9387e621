"""Kuma's exceptions, in one flat module.

    KumaError
     ├── SettingsError          a bad or missing setting; the message names the variable
     ├── FlowError              a flow file is wrong: path, line and step of the problem
     │    └── FlowLoadError     a flows folder holds broken files (carries every FlowError)
     ├── EngineUsageError       the engine was called wrongly (caller's bug, not an author's)
     ├── ChannelRequestError    a provider's webhook is malformed (→ 400)
     │    └── AuthenticationError   a webhook failed its token or signature check (→ 403)
     ├── ReplyError             a reply cannot be rendered for its channel (caller's bug)
     ├── SendError              an outbound SMS failed; `retryable` says if trying again helps
     │    └── RecipientOptedOutError  the provider refuses: the recipient opted out (never retry)
     ├── PhoneNumberError       a phone number cannot be understood
     ├── PhoneTokenError        an encrypted phone number is tampered or from another key
     ├── CenterImportError      a centres CSV is wrong: every `file:line: message` of it
     ├── SessionBusyError       a session's Redis lock was not free in time (store.lock)
     ├── ArgumentError          a user's argument is malformed; the message names it (→ 400)
     │    └── WeekError         not an ISO week (YYYY-Www), or a week range runs backwards
     └── NotFoundError          a named thing (centre, API token, …) does not exist (→ 404)
"""

from __future__ import annotations


class KumaError(Exception):
    """Base of every error Kuma raises on purpose."""


class SettingsError(KumaError):
    """A setting is missing or has a value Kuma cannot use."""


class FlowError(KumaError):
    """A mistake in a flow file, located for the person who edits it."""

    def __init__(self, message: str, *, path: str = "<flow>", line: int | None = None,
                 step: str | None = None) -> None:
        self.message = message
        self.path = path
        self.line = line
        self.step = step
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.message}"


class FlowLoadError(FlowError):
    """One or more flow files are broken; `errors` lists them all."""

    def __init__(self, errors: list[FlowError]) -> None:
        self.errors = errors
        first = errors[0]
        super().__init__("\n".join(str(e) for e in errors), path=first.path, line=None)

    def __str__(self) -> str:
        return "\n".join(str(e) for e in self.errors)


class EngineUsageError(KumaError):
    """The engine was called with arguments that cannot be right."""


class ChannelRequestError(KumaError):
    """A webhook request is malformed; the message says which field and why."""

    status_code = 400


class AuthenticationError(ChannelRequestError):
    """A webhook request failed authentication."""

    status_code = 403


class SendError(KumaError):
    """Sending an SMS failed."""

    def __init__(self, message: str, *, retryable: bool, provider_code: str | None = None) -> None:
        self.retryable = retryable
        self.provider_code = provider_code
        super().__init__(message)


class RecipientOptedOutError(SendError):
    """The provider refused the SMS because the recipient opted out or blacklisted the sender."""

    def __init__(self, message: str, *, provider_code: str | None = None) -> None:
        super().__init__(message, retryable=False, provider_code=provider_code)


class ReplyError(KumaError):
    """A reply does not fit its channel; the renderer upstream should have prevented it."""


class PhoneNumberError(KumaError):
    """A phone number cannot be parsed or is not a possible number."""


class PhoneTokenError(KumaError):
    """An encrypted phone number cannot be decrypted: tampered, corrupt or another key."""


class CenterImportError(KumaError):
    """A centres file cannot be imported; `errors` lists every `file:line: message`."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        super().__init__("\n".join(errors))


class ResponseImportError(KumaError):
    """A responses file cannot be imported; `errors` lists every `file:line: message`."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        super().__init__("\n".join(errors))


class SessionBusyError(KumaError):
    """Another request holds this session's lock and did not let go in time."""


class ArgumentError(KumaError):
    """An argument given by a user (CLI option, API parameter) is malformed."""

    status_code = 400


class WeekError(ArgumentError):
    """A week is not an ISO week "YYYY-Www", or a range of weeks runs backwards."""


class NotFoundError(KumaError):
    """A thing named by a user (a centre code, a token name) does not exist."""

    status_code = 404
