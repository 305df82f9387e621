"""Tests of gateway.outbound: sending through the providers' SDKs, delivery reports."""
