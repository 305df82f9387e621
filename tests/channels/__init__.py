"""Tests of gateway.channels, and the provider stand-ins other tests reuse."""
