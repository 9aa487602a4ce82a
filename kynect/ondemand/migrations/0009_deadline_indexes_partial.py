# The deadlines' indexes hold only the rows that can be due, and `route_at` is set only while a request
# is pending (tests/test_deadline_plans.py says why).

from django.db import migrations, models


def clear_route_at_when_not_pending(apps, schema_editor):
    """Requests that left pending before every transition out of it cleared `route_at`."""
    HelpRequest = apps.get_model("ondemand", "HelpRequest")
    HelpRequest.objects.exclude(status="pending").exclude(route_at=None).update(route_at=None)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_api_tokens"),
        ("ondemand", "0008_lifecycle_timeline"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="helprequest",
            name="help_request_sla_due",
        ),
        migrations.RemoveIndex(
            model_name="helprequest",
            name="help_request_unserved_due",
        ),
        migrations.RemoveIndex(
            model_name="helprequest",
            name="help_request_route_due",
        ),
        migrations.RemoveIndex(
            model_name="offer",
            name="offer_expiry_due",
        ),
        migrations.RemoveIndex(
            model_name="offer",
            name="offer_reminder_due",
        ),
        migrations.RemoveIndex(
            model_name="offer",
            name="offer_verify_due",
        ),
        migrations.AddIndex(
            model_name="helprequest",
            index=models.Index(
                condition=models.Q(
                    ("escalated_at__isnull", True),
                    ("first_contact_at__isnull", True),
                    ("sla_due_at__isnull", False),
                    ("status__in", ["pending", "in_progress"]),
                ),
                fields=["sla_due_at"],
                name="help_request_sla_due",
            ),
        ),
        migrations.AddIndex(
            model_name="helprequest",
            index=models.Index(
                condition=models.Q(("status", "pending"), ("unserved_at__isnull", False)),
                fields=["unserved_at"],
                name="help_request_unserved_due",
            ),
        ),
        migrations.AddIndex(
            model_name="helprequest",
            index=models.Index(
                condition=models.Q(("route_at__isnull", False)),
                fields=["route_at"],
                name="help_request_route_due",
            ),
        ),
        migrations.AddIndex(
            model_name="offer",
            index=models.Index(
                condition=models.Q(("expires_at__isnull", False), ("status", "pending")),
                fields=["expires_at"],
                name="offer_expiry_due",
            ),
        ),
        migrations.AddIndex(
            model_name="offer",
            index=models.Index(
                condition=models.Q(
                    ("remind_at__isnull", False), ("reminded_at__isnull", True), ("status", "pending")
                ),
                fields=["remind_at"],
                name="offer_reminder_due",
            ),
        ),
        migrations.AddIndex(
            model_name="offer",
            index=models.Index(
                condition=models.Q(
                    ("status", "accepted"), ("verified_at__isnull", True), ("verify_due_at__isnull", False)
                ),
                fields=["verify_due_at"],
                name="offer_verify_due",
            ),
        ),
        migrations.RunPython(clear_route_at_when_not_pending, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="helprequest",
            constraint=models.CheckConstraint(
                condition=models.Q(("route_at__isnull", True), ("status", "pending"), _connector="OR"),
                name="help_request_route_only_pending",
            ),
        ),
    ]
