"""Tests of gateway.sms: sending through the providers' SDKs, delivery reports."""
