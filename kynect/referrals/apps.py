from django.apps import AppConfig


class ReferralsConfig(AppConfig):
    name = "kynect.referrals"
    label = "referrals"
    verbose_name = "Referrals"

    def ready(self) -> None:
        # The referral lifecycle, and the 7- and 14-day deadlines the worker applies (DESIGN §5.6).
        from kynect.core import sweeper
        from kynect.referrals import lifecycles  # noqa: F401
        from kynect.referrals.services import referrals_expiry_sweep, referrals_outreach_sweep

        sweeper.register("referrals.outreach")(referrals_outreach_sweep)
        sweeper.register("referrals.expiry")(referrals_expiry_sweep)
