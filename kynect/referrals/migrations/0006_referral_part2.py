"""Referrals learn whether they hold 42 CFR Part 2 data; those made before are marked by the same rule
(`services.referral_is_part2`): a Substance Abuse need, or a service under substance use treatment."""

from django.db import migrations, models

from kynect.directory.taxonomy import category_find

SUBSTANCE_ABUSE = "substance_abuse"
PART2_CATEGORY = "substance-use-treatment"


def mark_part2(apps, schema_editor):
    Referral = apps.get_model("referrals", "Referral")
    Attribute = apps.get_model("directory", "Attribute")
    node = category_find(PART2_CATEGORY)
    terms = [item.id for item in node.walk()] if node else []
    services = Attribute.objects.filter(link_entity="service", taxonomy_term_id__in=terms).values("link_id")
    Referral.objects.filter(models.Q(need=SUBSTANCE_ABUSE) | models.Q(service_id__in=services)).update(
        part2=True
    )


class Migration(migrations.Migration):
    dependencies = [
        ("referrals", "0005_referral_event_detail_codes"),
        ("directory", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="referral",
            name="part2",
            field=models.BooleanField(default=False, verbose_name="42 CFR Part 2"),
        ),
        migrations.RunPython(mark_part2, migrations.RunPython.noop),
    ]
