"""The providers' registry: each provider's routes are served, its sender and prices used."""

from __future__ import annotations

from decimal import Decimal

from flask import Flask

from gateway.channels import registry
from gateway.channels.base import LogSender
from gateway.channels.twilio import TwilioSender
from gateway.web import webhooks


def test_every_route_a_provider_declares_is_served():
    app = Flask("routes")
    app.register_blueprint(webhooks.blueprint)
    served = {(rule.rule, rule.endpoint) for rule in app.url_map.iter_rules()
              if "POST" in (rule.methods or ())}
    declared = {(f"/webhooks/{name}/{hook.path}", f"webhooks.{name}_{hook.name}")
                for name, provider in registry.PROVIDERS.items() for hook in provider.webhooks}
    assert len(declared) == 6 and declared <= served


def test_the_ussd_aggregator_is_the_provider_that_speaks_ussd(settings):
    ussd = registry.ussd_provider(settings)
    assert (ussd.name, ussd.ussd_path) == ("africastalking", "/webhooks/africastalking/ussd")
    assert ussd.render("Merci", True) == "END Merci"


def test_the_sender_is_the_configured_provider_s_unless_the_outbox_is_the_log(settings):
    assert isinstance(registry.sender_for(settings, timeout=1), LogSender)
    twilio = settings.replace(sms_outbox="provider", sms_provider="twilio",
                              twilio_account_sid="AC" + "0" * 32, twilio_auth_token="t",
                              twilio_from="+15005550006")
    assert isinstance(registry.sender_for(twilio, timeout=1), TwilioSender)


def test_prices_per_segment_come_from_the_provider():
    assert registry.cost_per_segment("africastalking") == ("XOF", Decimal("15"))
    assert registry.cost_per_segment("log") is None
