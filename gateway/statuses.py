"""The str enums stored in the database, importable without SQLAlchemy (channels use them).

Values are the contract of docs/internals.md; they are stored as plain strings.
"""

from __future__ import annotations

import enum


class SessionStatus(enum.StrEnum):
    """Where a survey session stands."""

    ACTIVE = "active"
    COMPLETED = "completed"
    ABANDONED = "abandoned"
    EXPIRED = "expired"
    OPTED_OUT = "opted_out"
    DECLINED = "declined"  # she said no at the consent step
    FAILED = "failed"


class MessageStatus(enum.StrEnum):
    """Where an outbound SMS stands, from queued to the provider's last report."""

    QUEUED = "queued"
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"
    UNDELIVERED = "undelivered"
    REJECTED = "rejected"
    OPTED_OUT = "opted_out"
    DRY_RUN = "dry_run"
    LOGGED = "logged"


class CallOutcome(enum.StrEnum):
    """How a call ended, from the provider's end-of-call notification."""

    COMPLETED = "completed"
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    FAILED = "failed"
    REJECTED = "rejected"


class CallStatus(enum.StrEnum):
    """Where an outbound call stands, from queued to its outcome."""

    QUEUED = "queued"
    RINGING = "ringing"
    ANSWERED = "answered"
    COMPLETED = "completed"
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    FAILED = "failed"
    REJECTED = "rejected"


class MessagePurpose(enum.StrEnum):
    """Why an outbound SMS was written."""

    REPLY = "reply"
    SUMMARY = "summary"
    INVITATION = "invitation"
    NOTICE = "notice"


class Channel(enum.StrEnum):
    """How a mother answers a survey."""

    USSD = "ussd"
    SMS = "sms"
    VOICE = "voice"
    IMPORTED = "imported"  # answers collected before Kuma: `gateway responses import`


class RecipientRole(enum.StrEnum):
    """Who at a centre receives the weekly summary."""

    CHIEF_MIDWIFE = "chief_midwife"
    HEAD = "head"
    ASACO = "asaco"


class InvitationStatus(enum.StrEnum):
    """Where an invitation to an SMS survey stands."""

    SCHEDULED = "scheduled"
    SENT = "sent"
    SKIPPED = "skipped"  # opted out, or invited too recently
    CANCELLED = "cancelled"
    FAILED = "failed"


class UserRole(enum.StrEnum):
    """What a dashboard account may see: every centre, or its own."""

    COORDINATOR = "coordinator"
    TEAM = "team"  # one centre's change team


class PdsaStatus(enum.StrEnum):
    """Where a Plan-Do-Study-Act cycle stands."""

    PLANNED = "planned"
    RUNNING = "running"
    CLOSED = "closed"


class PdsaDecision(enum.StrEnum):
    """What the team decided at the end of a cycle."""

    ADOPT = "adopt"
    ADAPT = "adapt"
    ABANDON = "abandon"


class PdsaBaseline(enum.StrEnum):
    """How a cycle changes its run chart's centre line."""

    FREEZE = "freeze"  # the median of the points before it, extended forward
    SPLIT = "split"  # a new phase with a median of its own
