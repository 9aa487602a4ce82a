"""The 18 social drivers of health that kynect rates and refers for, in the resources overview's order
and wording ("Social Determinants of Health"). Referrals name one as their need; assessments rate each as
Stable, Vulnerable, In-Crisis or N/A."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class SdohDomain(models.TextChoices):
    ADULT_EDUCATION = "adult_education", _("Adult Education")
    COMMUNITY_INVOLVEMENT = "community_involvement", _("Community Involvement")
    FOOD = "food", _("Food")
    HOUSING = "housing", _("Housing")
    LIFE_SKILLS = "life_skills", _("Life Skills")
    MENTAL_HEALTH = "mental_health", _("Mental Health")
    MOBILITY = "mobility", _("Mobility")
    DISABILITIES = "disabilities", _("Disabilities")
    EMPLOYMENT = "employment", _("Employment")
    HEALTH_CARE_COVERAGE = "health_care_coverage", _("Health Care Coverage")
    INCOME = "income", _("Income")
    LEGAL = "legal", _("Legal")
    CHILDCARE = "childcare", _("Childcare")
    CHILDRENS_EDUCATION = "childrens_education", _("Children's Education")
    PARENTING_SKILLS = "parenting_skills", _("Parenting Skills")
    SAFETY = "safety", _("Safety")
    SUBSTANCE_ABUSE = "substance_abuse", _("Substance Abuse")
    FAMILY_SOCIAL_RELATIONS = "family_social_relations", _("Family/Social Relations")
