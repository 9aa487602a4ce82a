"""Timeline events stored closure reasons and outreach results as labels, in the language of whoever
acted; they now store codes, shown in the reader's language (`ReferralEvent.detail_display`). Earlier
events are turned into codes where their label is one of the choices' in English or Spanish; any other
text is left as it is."""

from django.db import migrations
from django.utils import translation


def labels_to_codes(apps, schema_editor):
    from kynect.referrals.models import ClosureReason, OutreachAttempt

    event_model = apps.get_model("referrals", "ReferralEvent")
    reasons: dict[str, str] = {}
    outreach: dict[str, str] = {}
    for language in ("en", "es"):
        with translation.override(language):
            reasons |= {str(label): code for code, label in ClosureReason.choices}
            for target, target_label in OutreachAttempt.Target.choices:
                for result, result_label in OutreachAttempt.Result.choices:
                    outreach[f"{target_label}: {result_label}"] = f"{target}:{result}"
    for event in event_model.objects.filter(transition__in=("fail", "expire", "outreach")).iterator():
        known = outreach if event.transition == "outreach" else reasons
        code = known.get(event.detail)
        if code is not None:
            event_model.objects.filter(pk=event.pk).update(detail=code)


class Migration(migrations.Migration):
    dependencies = [
        ("referrals", "0004_referral_resident_as_typed"),
    ]

    operations = [migrations.RunPython(labels_to_codes, migrations.RunPython.noop)]
