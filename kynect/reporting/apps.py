from django.apps import AppConfig


class ReportingConfig(AppConfig):
    name = "kynect.reporting"
    label = "reporting"
    verbose_name = "Reporting"

    def ready(self) -> None:
        # The recurring jobs: the monthly incentive report, the nightly counting of the metrics' months.
        from kynect.referrals.signals import referral_reopened
        from kynect.reporting import counts, incentive  # noqa: F401

        # A referral reopened changes the month it had been closed in.
        referral_reopened.connect(counts.month_stale_mark, dispatch_uid="reporting.month_stale_mark")
