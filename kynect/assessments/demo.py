"""Demo risk factors: the Medicaid application's answers of the demo residents, so that the Resident
Detail Screen and My Plan show risk factors from the first run. Idempotent; demo only."""

from __future__ import annotations

from datetime import timedelta

from kynect.assessments.models import RiskRating
from kynect.core import clock
from kynect.residents.models import Resident

# Per demo resident (the first few by name), the domains their application rated.
DEMO_RATINGS = (
    {"housing": "vulnerable", "food": "in_crisis", "income": "vulnerable", "mobility": "stable"},
    {"employment": "vulnerable", "childcare": "vulnerable", "health_care_coverage": "stable"},
    {"safety": "stable", "food": "vulnerable", "adult_education": "vulnerable"},
)


def demo_assessments_seed() -> int:
    """The demo residents' ratings that are missing; returns how many were made."""
    residents = list(Resident.objects.filter(erased_at__isnull=True).order_by("last_name", "first_name")[:3])
    answered = clock.now() - timedelta(days=30)
    made = 0
    for resident, ratings in zip(residents, DEMO_RATINGS, strict=False):
        for domain, rating in ratings.items():
            _rating, created = RiskRating.objects.get_or_create(
                source=RiskRating.Source.MEDICAID,
                external_id=f"demo-{resident.pk}-{domain}",
                defaults={"resident": resident, "domain": domain, "rating": rating, "rated_at": answered},
            )
            made += int(created)
    return made
