"""Kuma's SQL schema: SQLAlchemy 2.x typed models, one module per aggregate.

Importing this package registers every table on `Base.metadata` (Alembic needs them all).
No Flask and no engine here.
"""

from __future__ import annotations

from gateway.models.base import Base, UTCDateTime, iso_week, utcnow
from gateway.models.calls import Call
from gateway.models.centers import Center
from gateway.models.contacts import Contact
from gateway.models.invitations import Invitation
from gateway.models.messages import OutboundMessage
from gateway.models.pdsa import PdsaCycle
from gateway.models.people import StaffPhone, SummaryRecipient
from gateway.models.surveys import Answer, SurveySession
from gateway.models.tokens import ApiToken
from gateway.models.users import User
from gateway.statuses import (CallOutcome, CallStatus, Channel, InvitationStatus, MessagePurpose, MessageStatus,
                              RecipientRole, SessionStatus)

__all__ = [
    "Answer", "ApiToken", "Base", "Call", "CallOutcome", "CallStatus", "Center", "Channel", "Contact", "Invitation",
    "InvitationStatus", "MessagePurpose", "MessageStatus", "OutboundMessage", "PdsaCycle",
    "RecipientRole", "SessionStatus", "StaffPhone", "SummaryRecipient", "SurveySession",
    "UTCDateTime", "User", "iso_week", "utcnow",
]
