"""Signals accounts sends for the apps above it, which may not be imported from here (DESIGN §3)."""

from django.dispatch import Signal

# Sent inside the transaction that approves or declines an organization, with `organization`: the
# directory keeps its KY Partner marks (the search index's column) in step.
organization_onboarding_changed = Signal()
