"""On Demand API keys become API tokens of system clients with the `ondemand.intake` scope (ADR 0023).

Each key's token keeps the key's id, so help requests keep pointing at it, and its prefix and hash, so
the key itself keeps working: `kod_` tokens are checked with the purpose their hash was made with.
"""

import django.db.models.deletion
from django.db import migrations, models

ONDEMAND_INTAKE = "ondemand.intake"


def api_keys_to_tokens(apps, schema_editor):
    ApiKey = apps.get_model("ondemand", "ApiKey")
    ApiToken = apps.get_model("accounts", "ApiToken")
    for key in ApiKey.objects.all():
        # After a migration backwards and forwards again, the token is already there.
        ApiToken.objects.update_or_create(
            id=key.id,
            defaults={
                "prefix": key.prefix,
                "token_hash": key.key_hash,
                "client": key.name,
                "scopes": [ONDEMAND_INTAKE],
                "rate_limited": key.rate_limited,
                "last_used_at": key.last_used_at,
                "revoked_at": None if key.is_active else (key.revoked_at or key.updated_at),
            },
        )
        # Saving sets the timestamps to now; a token keeps the dates of its key.
        ApiToken.objects.filter(pk=key.id).update(created_at=key.created_at, updated_at=key.updated_at)


def api_tokens_to_keys(apps, schema_editor):
    ApiKey = apps.get_model("ondemand", "ApiKey")
    ApiToken = apps.get_model("accounts", "ApiToken")
    HelpRequest = apps.get_model("ondemand", "HelpRequest")
    if HelpRequest.objects.filter(api_key__user__isnull=False).exists():
        raise RuntimeError("Help requests made with a user's API token have no API key to go back to.")
    # Backwards, the tokens stay (accounts still has them); the keys are made again beside them.
    for token in ApiToken.objects.filter(user__isnull=True):
        if ONDEMAND_INTAKE not in token.scopes:
            continue
        ApiKey.objects.create(
            id=token.id,
            name=token.client,
            prefix=token.prefix,
            key_hash=token.token_hash,
            is_active=token.revoked_at is None,
            rate_limited=token.rate_limited,
            last_used_at=token.last_used_at,
            revoked_at=token.revoked_at,
        )
        ApiKey.objects.filter(pk=token.id).update(created_at=token.created_at, updated_at=token.updated_at)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_api_tokens"),
        ("ondemand", "0006_dashboard_period_indexes"),
    ]

    operations = [
        migrations.RunPython(api_keys_to_tokens, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="helprequest",
            name="api_key",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="help_requests",
                to="accounts.apitoken",
            ),
        ),
        # Backwards, the keys are made again before help requests point back at them.
        migrations.RunPython(migrations.RunPython.noop, api_tokens_to_keys),
        migrations.DeleteModel(
            name="ApiKey",
        ),
    ]
