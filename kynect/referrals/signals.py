"""Signals referrals sends for the apps above it, which it does not import (DESIGN §3)."""

from django.dispatch import Signal

# Sent inside the transaction that reopens a referral, with `referral_id`, `closed_at` (when it had been
# closed) and `now`: the metrics' summary marks that month as changed.
referral_reopened = Signal()
