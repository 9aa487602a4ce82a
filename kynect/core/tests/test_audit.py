"""Access events: who viewed whose personal data. Append-only everywhere."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from django.test import Client, RequestFactory

from kynect.accounts.tests.factories import UserFactory
from kynect.core.audit import access_event_record, audited_read
from kynect.core.logging import mask_pii
from kynect.core.models import AccessEvent, AppendOnlyError

pytestmark = pytest.mark.django_db

WHEN = datetime(2025, 3, 3, 14, 30, tzinfo=UTC)


@pytest.fixture
def event() -> AccessEvent:
    return access_event_record(
        actor=UserFactory.create(email="navigator@example.org"),
        subject_type="client",
        subject_id="c-1",
        detail="Opened the referral",
    )


def test_records_actor_subject_action_and_request_details(rf: RequestFactory) -> None:
    user = UserFactory.create(email="navigator@example.org")
    request = rf.get(
        "/es/referrals/42/?tab=notes",
        REMOTE_ADDR="203.0.113.9",
        HTTP_USER_AGENT="Mozilla/5.0 (Test)",
        HTTP_X_FORWARDED_FOR="198.51.100.1",
    )

    with time_machine.travel(WHEN, tick=False):
        event = access_event_record(
            actor=user,
            subject_type="client",
            subject_id=42,  # type: ignore[arg-type]
            action=AccessEvent.Action.EXPORT,
            detail="Exported the referral",
            request=request,
        )

    stored = AccessEvent.objects.get(pk=event.pk)
    assert stored.actor == user
    assert stored.actor_label == "navigator@example.org"
    assert stored.subject_type == "client"
    assert stored.subject_id == "42"
    assert stored.action == "export"
    assert stored.detail == "Exported the referral"
    assert stored.ip_address == "203.0.113.9"  # not the forwarded address, which anyone can send
    assert stored.user_agent == "Mozilla/5.0 (Test)"
    assert stored.path == "/es/referrals/42/"
    assert stored.occurred_at == WHEN


@pytest.mark.parametrize(
    "path",
    [
        "/ondemand/help/{id}/{secret}/",
        "/es/ondemand/help/{id}/{secret}/cancel/",
        "/ondemand/offer/{id}/{secret}/details/",
    ],
)
def test_a_link_secret_in_the_path_is_stored_masked_as_the_access_log_masks_it(
    rf: RequestFactory, path: str
) -> None:
    row_id, secret = "0b0c4f4e-3a8e-4b7b-9d39-5c7a9b1d2e3f", "bSTwg3jnyLCc3mi5XXrxfx0vVTeAYW7d9_Uo_3R19KU"
    request = rf.get(path.format(id=row_id, secret=secret))

    event = access_event_record(
        actor=None, subject_type="ondemand.helprequest", subject_id="r", request=request
    )

    stored = AccessEvent.objects.get(pk=event.pk).path
    assert secret not in stored
    assert stored == path.format(id=row_id, secret="[secret]")
    assert stored == mask_pii(request.path)


def test_default_action_is_view_and_request_is_optional() -> None:
    event = access_event_record(actor=None, subject_type="client", subject_id="c-1")

    stored = AccessEvent.objects.get(pk=event.pk)
    assert stored.action == AccessEvent.Action.VIEW
    assert stored.ip_address is None
    assert stored.user_agent == ""
    assert stored.path == ""


@pytest.mark.parametrize("actor", [None, AnonymousUser()])
def test_anonymous_actor(rf: RequestFactory, actor: AnonymousUser | None) -> None:
    event = access_event_record(
        actor=actor,  # type: ignore[arg-type]
        subject_type="client",
        subject_id="c-9",
        action=AccessEvent.Action.LOOKUP,
        request=rf.get("/lookup/"),
    )

    stored = AccessEvent.objects.get(pk=event.pk)
    assert stored.actor is None
    assert stored.actor_label == "anonymous"
    assert stored.action == "lookup"
    assert stored.ip_address == "127.0.0.1"


def test_long_values_are_cut_to_fit(rf: RequestFactory) -> None:
    request = rf.get("/x/", HTTP_USER_AGENT="A" * 400)

    event = access_event_record(
        actor=None, subject_type="client", subject_id="c-1", detail="d" * 300, request=request
    )

    stored = AccessEvent.objects.get(pk=event.pk)
    assert stored.user_agent == "A" * 255
    assert stored.detail == "d" * 255


def test_unknown_action_is_refused() -> None:
    with pytest.raises(ValidationError):
        access_event_record(actor=None, subject_type="client", subject_id="c-1", action="erase")
    assert not AccessEvent.objects.exists()


def test_audited_read_returns_the_data_and_records_who_whose_what_when_and_from_where(
    rf: RequestFactory,
) -> None:
    user = UserFactory.create(email="helper@example.org")
    request = rf.get("/ondemand/referrals/r-7/", REMOTE_ADDR="203.0.113.4", HTTP_USER_AGENT="Phone (Test)")
    request.user = user

    with time_machine.travel(WHEN, tick=False):
        shown = audited_read(
            request=request,
            actor=user,
            subject_type="ondemand.helprequest",
            subject_id="r-7",
            detail=lambda rows: f"{len(rows)} call attempts",
            read=lambda: ["called", "no answer"],
        )

    assert shown == ["called", "no answer"]
    event = AccessEvent.objects.get()
    assert (event.actor, event.actor_label) == (user, "helper@example.org")
    assert (event.subject_type, event.subject_id) == ("ondemand.helprequest", "r-7")
    assert (event.action, event.detail) == (AccessEvent.Action.VIEW, "2 call attempts")
    assert event.occurred_at == WHEN
    assert (event.ip_address, event.user_agent, event.path) == (
        "203.0.113.4",
        "Phone (Test)",
        "/ondemand/referrals/r-7/",
    )


def test_audited_read_records_someone_not_signed_in_with_a_fixed_detail(rf: RequestFactory) -> None:
    shown = audited_read(
        request=rf.get("/help/x/"),
        actor=None,
        subject_type="ondemand.helprequest",
        subject_id="r-8",
        detail="status page by the requester's secret link",
        read=lambda: {"phone": "(502) 555-0100"},
    )

    assert shown == {"phone": "(502) 555-0100"}
    event = AccessEvent.objects.get()
    assert (event.actor, event.actor_label) == (None, "anonymous")
    assert event.detail == "status page by the requester's secret link"


def test_a_read_that_fails_records_nothing(rf: RequestFactory) -> None:
    def read() -> str:
        raise LookupError("gone")

    with pytest.raises(LookupError):
        audited_read(request=rf.get("/"), actor=None, subject_type="client", subject_id="c-1", read=read)

    assert not AccessEvent.objects.exists()


def test_the_read_and_its_record_are_one_transaction(rf: RequestFactory) -> None:
    """A record that cannot be written (here an unknown action) undoes the read's transaction too, and the
    data is not handed out."""
    from kynect.accounts.models import User

    def read() -> User:
        return UserFactory.create(email="made.by.the.read@example.org")

    with pytest.raises(ValidationError):
        audited_read(
            request=rf.get("/"),
            actor=None,
            subject_type="client",
            subject_id="c-1",
            action="erase",
            read=read,
        )

    assert not User.objects.filter(email="made.by.the.read@example.org").exists()
    assert not AccessEvent.objects.exists()


def test_no_view_records_access_by_hand() -> None:
    """Views show personal data through `audited_read`, which records the access with the read."""
    kynect = Path(__file__).resolve().parents[2]
    by_hand = [
        str(path.relative_to(kynect.parent))
        for path in kynect.rglob("views*.py")
        if "access_event_record" in path.read_text(encoding="utf-8")
    ]
    assert by_hand == []


def test_saving_an_existing_event_is_refused(event: AccessEvent) -> None:
    event.detail = "Tampered"

    with pytest.raises(AppendOnlyError):
        event.save()

    assert AccessEvent.objects.get(pk=event.pk).detail == "Opened the referral"


def test_deleting_an_event_is_refused(event: AccessEvent) -> None:
    with pytest.raises(AppendOnlyError):
        event.delete()

    assert AccessEvent.objects.filter(pk=event.pk).exists()


def test_queryset_update_is_refused(event: AccessEvent) -> None:
    with pytest.raises(AppendOnlyError):
        AccessEvent.objects.filter(pk=event.pk).update(detail="Tampered")
    with pytest.raises(AppendOnlyError):
        AccessEvent.objects.update(detail="Tampered")

    assert AccessEvent.objects.get(pk=event.pk).detail == "Opened the referral"


def test_queryset_delete_is_refused(event: AccessEvent) -> None:
    with pytest.raises(AppendOnlyError):
        AccessEvent.objects.filter(pk=event.pk).delete()
    with pytest.raises(AppendOnlyError):
        AccessEvent.objects.all().delete()

    assert AccessEvent.objects.count() == 1


def _db_id(event: AccessEvent) -> Any:
    """The id as this database stores it (32 hex digits on SQLite, a uuid on PostgreSQL)."""
    return AccessEvent._meta.pk.get_db_prep_value(event.pk, connection)


def test_database_refuses_raw_update(event: AccessEvent) -> None:
    assert AccessEvent._meta.db_table == "core_accessevent"

    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE core_accessevent SET detail = %s WHERE id = %s", ["Tampered", _db_id(event)])

    assert AccessEvent.objects.get(pk=event.pk).detail == "Opened the referral"


def test_database_trigger_guards_raw_sql_deletes_where_it_can(event: AccessEvent) -> None:
    if connection.vendor == "postgresql":
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute("DELETE FROM core_accessevent WHERE id = %s", [_db_id(event)])
        assert AccessEvent.objects.filter(pk=event.pk).exists()
    else:
        # SQLite has only the UPDATE trigger: a DELETE trigger would block the test runner's flush.
        assert connection.vendor == "sqlite"
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'core_accessevent'"
            )
            triggers = cursor.fetchall()
        assert [name for name, _sql in triggers] == ["core_accessevent_no_update"]
        assert "BEFORE UPDATE" in triggers[0][1]


def test_admin_lists_events_but_cannot_add_change_or_delete(admin_client: Client, event: AccessEvent) -> None:
    changelist = admin_client.get("/admin/core/accessevent/")
    assert changelist.status_code == 200
    assert b"navigator@example.org" in changelist.content
    assert b"/admin/core/accessevent/add/" not in changelist.content

    assert admin_client.get("/admin/core/accessevent/add/").status_code == 403
    assert admin_client.post("/admin/core/accessevent/add/", {"detail": "x"}).status_code == 403

    change_url = f"/admin/core/accessevent/{event.pk}/change/"
    detail = admin_client.get(change_url)
    assert detail.status_code == 200  # a read-only view
    assert b'name="_save"' not in detail.content
    assert admin_client.post(change_url, {"detail": "Tampered"}).status_code == 403

    delete_url = f"/admin/core/accessevent/{event.pk}/delete/"
    assert admin_client.get(delete_url).status_code == 403
    assert admin_client.post(delete_url, {"post": "yes"}).status_code == 403

    assert AccessEvent.objects.get(pk=event.pk).detail == "Opened the referral"


def test_admin_permissions_for_a_superuser(admin_user, rf: RequestFactory) -> None:
    from django.contrib import admin

    model_admin = admin.site._registry[AccessEvent]
    request = rf.get("/admin/core/accessevent/")
    request.user = admin_user
    event = access_event_record(actor=None, subject_type="client", subject_id="c-1")

    assert admin_user.is_superuser
    assert model_admin.has_view_permission(request, event)
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, event)
    assert not model_admin.has_delete_permission(request, event)
    assert "delete_selected" not in model_admin.get_actions(request)
