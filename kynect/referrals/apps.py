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

        # The directory's "Frequently Paired Together" reads co-referrals through this (DESIGN §4).
        from kynect.directory.listings import paired_source_register
        from kynect.referrals.selectors import services_paired

        paired_source_register(services_paired)

        # The Resident Detail Screen shows a resident's referrals through this.
        from kynect.referrals.selectors import resident_plan_section, resident_referrals_section
        from kynect.residents.sections import resident_section_register

        resident_section_register("referrals", resident_referrals_section)
        resident_section_register("referrals", resident_plan_section, place="plan")

        # Retention erasing residents: what referrals keep about them in free text goes too.
        from kynect.referrals.services import referrals_resident_erasing
        from kynect.residents.retention import resident_erasing

        resident_erasing.connect(referrals_resident_erasing, dispatch_uid="referrals.resident_erasing")
