"""Kuma: an SMS and USSD gateway for patient feedback to community health centres."""

from __future__ import annotations

__version__ = "0.1.0"


def create_app(settings=None):
    """Build the Flask application (see gateway.app)."""
    from gateway.app import create_app as _create_app

    return _create_app(settings)
