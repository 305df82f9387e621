"""Phone numbers and privacy: E.164 normalisation, masking, keyed hashing, encryption at rest.

A contact's number is stored encrypted (`PhoneVault.encrypt`) and looked up by a keyed hash
(`PhoneVault.hash`), both keyed from the gateway's secret key by HKDF with separate labels,
so that neither key can be used for the other purpose. Logs and screens show `mask(...)`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

import phonenumbers
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from gateway.errors import PhoneNumberError, PhoneTokenError, SettingsError

DEFAULT_REGION = "ML"
TEXT_MASK = "********"
SEALED = "sealed:"  # the prefix of a text PhoneVault.seal encrypted

_HASH_INFO = b"kuma phone lookup hash v1"
_CRYPT_INFO = b"kuma phone encryption v1"
_E164 = re.compile(r"\+[1-9]\d{5,14}")
# Fallback for what the matcher leaves: 8+ digits, optionally grouped by one space, dot or
# dash, optionally after + or 00. Shorter runs ("2500 FCFA", "1 500 000") are kept.
_ANY_DIGIT = re.compile(r"\d")  # any script's digits, as PhoneNumberMatcher reads them
_DIGIT_RUN = re.compile(r"\+?\d(?:[ .\-]?\d){7,}")


def _hint(raw: str) -> str:
    """Describe a raw number for an error message without revealing it."""
    digits = re.sub(r"\D", "", raw)
    if len(digits) < 4:
        return f"{len(digits)} digits"
    return f"{len(digits)} digits, ending {digits[-2:]}"


def _reason(exc: phonenumbers.NumberParseException) -> str:
    """Return the parser's reason without its numeric error-type prefix."""
    return re.sub(r"^\(\d+\)\s*", "", str(exc))


def normalise(raw: str, default_region: str = DEFAULT_REGION) -> str:
    """Return raw as an E.164 number, national forms read in default_region."""
    if not isinstance(raw, str) or not raw.strip():
        raise PhoneNumberError("phone number is empty")
    try:
        number = phonenumbers.parse(raw.strip(), default_region)
    except phonenumbers.NumberParseException as exc:
        raise PhoneNumberError(
            f"phone number cannot be read ({_hint(raw)}): {_reason(exc)}") from None
    if not phonenumbers.is_valid_number(number):
        region = phonenumbers.region_code_for_country_code(number.country_code)
        raise PhoneNumberError(
            f"not a valid phone number for {region} (+{number.country_code}, {_hint(raw)})")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def mask(e164: str) -> str:
    """Return e164 with only its country code and last two digits showing: +223******56."""
    digits = re.sub(r"\D", "", e164 or "")
    if len(digits) < 4:
        return "*" * len(digits)
    try:
        country = str(phonenumbers.parse("+" + digits).country_code)
    except phonenumbers.NumberParseException:
        country = ""
    hidden = len(digits) - len(country) - 2
    prefix = "+" + country if country else ""
    return f"{prefix}{'*' * hidden}{digits[-2:]}"


def mask_numbers_in_text(text: str) -> str:
    """Return text with anything that looks like a phone number replaced by ********."""
    if not _ANY_DIGIT.search(text):  # most answers: no number to find, and the matcher is slow
        return text
    matcher = phonenumbers.PhoneNumberMatcher(
        text, DEFAULT_REGION, leniency=phonenumbers.Leniency.POSSIBLE)
    pieces, last = [], 0
    for match in matcher:
        pieces += [text[last:match.start], TEXT_MASK]
        last = match.end
    pieces.append(text[last:])
    return _DIGIT_RUN.sub(TEXT_MASK, "".join(pieces))


def _derive(secret_key: str, info: bytes) -> bytes:
    """Derive a 32-byte key for one purpose from the gateway's secret key."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(
        secret_key.encode("utf-8"))


class PhoneVault:
    """Keyed hashing and authenticated encryption of E.164 numbers."""

    def __init__(self, secret_key: str) -> None:
        if not secret_key:
            raise SettingsError("GATEWAY_SECRET_KEY is empty: phone numbers cannot be protected")
        self._hash_key = _derive(secret_key, _HASH_INFO)
        self._fernet = Fernet(base64.urlsafe_b64encode(_derive(secret_key, _CRYPT_INFO)))

    def __repr__(self) -> str:
        return "PhoneVault(<secret>)"

    @staticmethod
    def _check(e164: str) -> bytes:
        # Hashing "76123456" and "+22376123456" differently would split one contact in two.
        if not isinstance(e164, str) or not _E164.fullmatch(e164):
            raise PhoneNumberError(
                f"expected an E.164 number (+ and digits), got {mask(str(e164))!r}; "
                "call phones.normalise first")
        return e164.encode("ascii")

    def hash(self, e164: str) -> str:
        """Return the HMAC-SHA256 hex digest of e164, for looking a contact up."""
        return hmac.new(self._hash_key, self._check(e164), hashlib.sha256).hexdigest()

    def encrypt(self, e164: str) -> str:
        """Return e164 encrypted (randomised, authenticated) as an ASCII token."""
        return self._fernet.encrypt(self._check(e164)).decode("ascii")

    def seal(self, text: str) -> str:
        """Return any text that may hold a phone number encrypted, for a Redis job argument."""
        return SEALED + self._fernet.encrypt(text.encode("utf-8")).decode("ascii")

    def unseal(self, sealed: str) -> str:
        """Return the text `seal` encrypted (a text not sealed comes back as it is)."""
        if not sealed.startswith(SEALED):
            return sealed  # a job queued before texts were sealed
        try:
            return self._fernet.decrypt(sealed[len(SEALED):]).decode("utf-8")
        except (InvalidToken, TypeError, ValueError):
            raise PhoneTokenError("sealed text cannot be decrypted: corrupt, tampered or "
                                  "encrypted with another GATEWAY_SECRET_KEY") from None

    def text_digest(self, text: str) -> str:
        """Return a keyed digest of `text`: to recognise it again without keeping it."""
        return hmac.new(self._hash_key, text.encode("utf-8"), hashlib.sha256).hexdigest()[:32]

    def decrypt(self, token: str) -> str:
        """Return the E.164 number inside token, or raise PhoneTokenError."""
        try:
            return self._fernet.decrypt(token).decode("ascii")
        except (InvalidToken, TypeError, ValueError):
            raise PhoneTokenError(
                "phone number token cannot be decrypted: corrupt, tampered or "
                "encrypted with another GATEWAY_SECRET_KEY") from None
