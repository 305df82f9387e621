"""Tests of gateway.invitations and the `gateway invite`/`staff`/`messages` commands."""
