"""Every provider Kuma speaks to. A third one is a module of its own and one line here."""

from __future__ import annotations

from decimal import Decimal

from gateway.channels import africastalking, africastalking_voice, twilio, twilio_voice
from gateway.channels.base import LogSender, Provider, SmsSender, UssdProvider, VoiceProvider
from gateway.settings import Settings

PROVIDERS: dict[str, type] = {
    africastalking.PROVIDER: africastalking.AfricasTalking,
    twilio.PROVIDER: twilio.Twilio,
}

# Calls, by the provider's name (their routes share the SMS provider's /webhooks/<name>/).
VOICE_PROVIDERS: dict[str, type] = {
    africastalking_voice.PROVIDER: africastalking_voice.AfricasTalkingVoice,
    twilio_voice.PROVIDER: twilio_voice.TwilioVoice,
}


def build(settings: Settings) -> dict[str, Provider]:
    """Return every provider, configured, by name."""
    return {name: provider(settings) for name, provider in PROVIDERS.items()}


def ussd_provider(settings: Settings) -> UssdProvider:
    """Return the USSD aggregator, configured (the first provider that speaks USSD)."""
    return next(provider(settings) for provider in PROVIDERS.values()
                if hasattr(provider, "parse_ussd"))


def sender_for(settings: Settings, *, timeout: float) -> SmsSender:
    """Return the sender SMS_OUTBOX and SMS_PROVIDER ask for."""
    if settings.sms_outbox == "log" or settings.sms_provider is None:
        return LogSender()
    return PROVIDERS[settings.sms_provider](settings).sender(timeout)


def cost_per_segment(name: str) -> tuple[str, Decimal] | None:
    """Return a provider's (currency, price) per segment, for estimates; None if unknown."""
    provider = PROVIDERS.get(name)
    return getattr(provider, "cost_per_segment", None)


def build_voice(settings: Settings) -> dict[str, VoiceProvider]:
    """Return every voice provider, configured, by name."""
    return {name: provider(settings) for name, provider in VOICE_PROVIDERS.items()}


def voice_provider(settings: Settings, name: str) -> VoiceProvider:
    """Return voice provider `name`, configured; KeyError if there is none by that name."""
    return VOICE_PROVIDERS[name](settings)
