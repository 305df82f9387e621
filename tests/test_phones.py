"""Phone numbers: normalisation, masking, keyed hashing and encryption at rest."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from gateway import phones
from gateway.errors import KumaError, PhoneNumberError, PhoneTokenError, SettingsError
from gateway.phones import PhoneVault


@pytest.mark.parametrize("raw", [
    "76 12 34 56", "76123456", "76.12.34.56", "76-12-34-56", "0022376123456",
    "+223 76123456", "+22376123456", " +223 76 12 34 56 ",
])
def test_normalise_malian_forms(raw):
    assert phones.normalise(raw) == "+22376123456"


@pytest.mark.parametrize("raw, expected", [
    ("+15005550006", "+15005550006"),  # Twilio's test number
    ("+1 (500) 555-0006", "+15005550006"),
    ("+33 6 12 34 56 78", "+33612345678"),
    ("+221 77 123 45 67", "+221771234567"),
])
def test_normalise_other_countries_in_international_form(raw, expected):
    assert phones.normalise(raw) == expected


def test_normalise_national_form_of_another_region():
    assert phones.normalise("06 12 34 56 78", default_region="FR") == "+33612345678"


@pytest.mark.parametrize("raw, message", [
    ("", "phone number is empty"),
    ("   ", "phone number is empty"),
    ("abc", "cannot be read"),
    ("123", "not a valid phone number for ML"),
    ("76 12 34 5", "not a valid phone number for ML (+223, 7 digits, ending 45)"),
    ("+223 76 12 34 567", "not a valid phone number for ML"),
    ("+223 12 34 56 78", "not a valid phone number for ML"),
])
def test_normalise_rejects_with_a_clear_message_that_hides_the_number(raw, message):
    with pytest.raises(PhoneNumberError) as info:
        phones.normalise(raw)
    assert message in str(info.value)
    digits = "".join(c for c in raw if c.isdigit())
    if len(digits) >= 6:
        assert digits not in str(info.value).replace(" ", "")


def test_normalise_rejects_non_strings():
    with pytest.raises(PhoneNumberError):
        phones.normalise(None)  # type: ignore[arg-type]


@pytest.mark.parametrize("e164, masked", [
    ("+22376123456", "+223******56"),
    ("+15005550006", "+1********06"),
    ("+33612345678", "+33*******78"),
    ("123", "***"),
])
def test_mask(e164, masked):
    assert phones.mask(e164) == masked


@pytest.mark.parametrize("text, masked", [
    ("appelez moi au 76 12 34 56", "appelez moi au ********"),
    ("mon numéro: 76123456 merci", "mon numéro: ******** merci"),
    ("+223 66.12.34.56 ou 0022376123456", "******** ou ********"),
    ("tel76-12-34-56!", "tel********!"),
    ("4 consultations, 2500 FCFA, payé 1 500 000 FCFA",
     "4 consultations, 2500 FCFA, payé 1 500 000 FCFA"),
    ("La sage-femme était gentille.", "La sage-femme était gentille."),
    ("appel ７６ １２ ３４ ５６ svp", "appel ******** svp"),  # full-width digits are digits too
    ("٧٦١٢٣٤٥٦", "********"),                              # and Arabic-Indic ones
    ("", ""),
])
def test_mask_numbers_in_text(text, masked):
    assert phones.mask_numbers_in_text(text) == masked


@pytest.fixture
def vault():
    return PhoneVault("a test secret key")


def test_hash_is_keyed_stable_and_hex(vault):
    digest = vault.hash("+22376123456")
    assert digest == vault.hash("+22376123456")
    assert len(digest) == 64 and int(digest, 16) >= 0
    assert digest != vault.hash("+22376123457")
    assert digest != PhoneVault("another key").hash("+22376123456")


def test_hash_is_hmac_sha256_under_an_hkdf_derived_key(vault):
    # Stored contacts are found by this hash: changing the derivation orphans them all.
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
               info=b"kuma phone lookup hash v1").derive(b"a test secret key")
    expected = hmac.new(key, b"+22376123456", hashlib.sha256).hexdigest()
    assert vault.hash("+22376123456") == expected
    assert expected != hmac.new(b"a test secret key", b"+22376123456", hashlib.sha256).hexdigest()


def test_encrypt_round_trips_and_is_randomised(vault):
    token = vault.encrypt("+22376123456")
    assert token != vault.encrypt("+22376123456")
    assert "76123456" not in token
    assert vault.decrypt(token) == "+22376123456"
    assert PhoneVault("a test secret key").decrypt(token) == "+22376123456"


@pytest.mark.parametrize("mangle", [
    lambda t: t[:-4] + ("AAAA" if not t.endswith("AAAA") else "BBBB"),
    lambda t: t[:20] + ("x" if t[20] != "x" else "y") + t[21:],
    lambda t: "",
    lambda t: "not a token",
    lambda t: t.encode("ascii").hex(),
])
def test_decrypt_tampered_token_raises(vault, mangle):
    with pytest.raises(PhoneTokenError, match="cannot be decrypted"):
        vault.decrypt(mangle(vault.encrypt("+22376123456")))


def test_decrypt_with_wrong_key_raises(vault):
    token = vault.encrypt("+22376123456")
    with pytest.raises(PhoneTokenError) as info:
        PhoneVault("another key").decrypt(token)
    assert isinstance(info.value, KumaError)


@pytest.mark.parametrize("bad", ["76123456", "22376123456", "+223 76123456", "", None])
def test_vault_requires_e164(vault, bad):
    with pytest.raises(PhoneNumberError, match="E.164"):
        vault.hash(bad)
    with pytest.raises(PhoneNumberError, match="E.164"):
        vault.encrypt(bad)


def test_vault_refuses_an_empty_key():
    with pytest.raises(SettingsError, match="GATEWAY_SECRET_KEY"):
        PhoneVault("")


def test_vault_repr_hides_the_key(vault):
    assert "secret key" not in repr(vault)


def test_a_sealed_text_hides_its_number_and_comes_back_whole():
    vault = PhoneVault("test-secret")
    sealed = vault.seal("VISITE 73100701")

    assert "73100701" not in sealed and sealed.startswith("sealed:")
    assert vault.unseal(sealed) == "VISITE 73100701"
    assert vault.unseal("VISITE 73100701") == "VISITE 73100701"  # queued before sealing
    with pytest.raises(PhoneTokenError):
        PhoneVault("another-secret").unseal(sealed)


def test_a_text_digest_is_keyed():
    assert PhoneVault("a").text_digest("1*2") == PhoneVault("a").text_digest("1*2")
    assert PhoneVault("a").text_digest("1*2") != PhoneVault("b").text_digest("1*2")
