"""Names the dashboard shows for things the flows name by id: the four QI areas."""

from __future__ import annotations

from gateway.i18n import N_

AREA_NAMES = {
    "clinical_quality": N_("Clinical quality"),
    "patient_experience": N_("Patient experience"),
    "management_governance": N_("Management and governance"),
    "revenue_cost_recovery": N_("Revenue and cost recovery"),
}
