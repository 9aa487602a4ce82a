"""API tokens: made for a user or a client, stored hashed, checked in constant time, revoked, and the
django-ninja authentication that puts the token's user on the request."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
import time_machine
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.test import RequestFactory
from django.utils.crypto import constant_time_compare, salted_hmac
from ninja.errors import AuthenticationError, AuthorizationError

from kynect.accounts.api_auth import ApiKeyAuth, BearerAuth, token_auth
from kynect.accounts.models import ApiScope, ApiToken
from kynect.accounts.tests.factories import UserFactory
from kynect.accounts.tokens import (
    api_token_allows,
    api_token_authenticate,
    api_token_create,
    api_token_revoke,
)
from kynect.core import codes

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
INTAKE = ApiScope.ONDEMAND_INTAKE


def test_a_client_token_is_shown_once_and_stored_hashed():
    api_token, token = api_token_create(client="  KHIE ", scopes=[INTAKE, INTAKE])
    assert token.startswith(f"kyt_{api_token.prefix}_")
    assert len(api_token.prefix) == 8
    assert token not in api_token.token_hash
    assert len(api_token.token_hash) == 64
    assert api_token.client == "KHIE"
    assert api_token.user is None
    assert api_token.scopes == [INTAKE]
    assert api_token.rate_limited is True
    assert api_token.is_active
    assert str(api_token) == f"KHIE ({api_token.prefix})"
    assert api_token_authenticate(token=token) == api_token


def test_a_users_token_has_no_scopes_and_acts_as_the_user():
    user = UserFactory.create(first_name="Ana", last_name="Ruiz")
    admin = UserFactory.create()
    api_token, token = api_token_create(user=user, created_by=admin)
    assert api_token.client == ""
    assert api_token.scopes == []
    assert api_token.created_by == admin
    assert str(api_token) == f"Ana Ruiz ({api_token.prefix})"
    authenticated = api_token_authenticate(token=token)
    assert authenticated is not None
    assert authenticated.user == user
    assert api_token_allows(api_token=api_token, scope=INTAKE)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({}, "either to a user or to a named client"),
        ({"client": "   ", "scopes": [INTAKE]}, "either to a user or to a named client"),
        ({"client": "KHIE", "scopes": [INTAKE], "user": "user"}, "either to a user or to a named client"),
        ({"client": "KHIE"}, "needs at least one scope"),
        ({"client": "KHIE", "scopes": ["referrals.write", INTAKE]}, "Unknown scope referrals.write"),
        ({"user": "user", "scopes": [INTAKE]}, "scopes are for client tokens"),
        ({"user": "inactive"}, "is not an active user"),
    ],
)
def test_bad_owners_and_scopes_are_refused_and_change_nothing(arguments, message):
    users = {"user": UserFactory.create(), "inactive": UserFactory.create(is_active=False)}
    if "user" in arguments:
        arguments = {**arguments, "user": users[arguments["user"]]}
    with pytest.raises(ValidationError, match=message):
        api_token_create(**arguments)
    assert not ApiToken.objects.exists()


def test_the_database_holds_a_token_to_exactly_one_owner():
    user = UserFactory.create()
    with pytest.raises(IntegrityError), transaction.atomic():
        ApiToken.objects.create(prefix="aaaaaaaa", token_hash="x", user=user, client="KHIE")
    with pytest.raises(IntegrityError), transaction.atomic():
        ApiToken.objects.create(prefix="bbbbbbbb", token_hash="x")


def test_wrong_unknown_and_revoked_tokens_do_not_authenticate():
    api_token, token = api_token_create(client="Call centre", scopes=[INTAKE])
    assert api_token_authenticate(token=token) == api_token
    for wrong in ["", token + "x", token[:-1], f"kyt_zzzzzzzz_{token[13:]}", "kyt_abcdefgh_", "not-a-token"]:
        assert api_token_authenticate(token=wrong) is None
    # The same prefix and secret under the other mark is another token.
    assert api_token_authenticate(token="kod" + token[3:]) is None
    with time_machine.travel(NOW, tick=False):
        revoked = api_token_revoke(prefix=api_token.prefix)
    assert revoked.revoked_at == NOW
    assert not revoked.is_active
    assert api_token_authenticate(token=token) is None
    # Revoking again keeps the first revocation time.
    assert api_token_revoke(prefix=api_token.prefix).revoked_at == NOW
    with pytest.raises(ValidationError, match="No API token has the prefix nope"):
        api_token_revoke(prefix="nope")


def test_a_token_stops_working_when_its_user_can_no_longer_sign_in():
    user = UserFactory.create()
    _api_token, token = api_token_create(user=user)
    user.is_active = False
    user.save()
    assert api_token_authenticate(token=token) is None


def test_a_key_made_before_tokens_still_authenticates():
    # As the On Demand API made keys: 'kod_<prefix>_<secret>', hashed under the API key salt; the
    # migration copies prefix and hash unchanged (test_token_migration shows the copy).
    key = "kod_1a2b3c4d_" + codes.secret_new()
    migrated = ApiToken.objects.create(
        prefix="1a2b3c4d",
        token_hash=salted_hmac("kynect.ondemand.api-key", key, algorithm="sha256").hexdigest(),
        client="Call centre",
        scopes=[INTAKE],
    )
    assert api_token_authenticate(token=key) == migrated
    assert api_token_authenticate(token="kyt" + key[3:]) is None


def test_tokens_are_compared_in_constant_time():
    _api_token, token = api_token_create(client="Call centre", scopes=[INTAKE])
    with mock.patch.object(codes, "constant_time_compare", wraps=constant_time_compare) as compare:
        assert api_token_authenticate(token=token) is not None
        assert api_token_authenticate(token=token[:-1] + "#") is None
    assert compare.call_count == 2


def test_a_token_records_its_last_use_at_most_once_a_minute():
    api_token, token = api_token_create(client="Call centre", scopes=[INTAKE])
    with time_machine.travel(NOW, tick=False) as traveller:
        assert api_token_authenticate(token=token) is not None
        traveller.shift(timedelta(seconds=59))
        assert api_token_authenticate(token=token) is not None
        api_token.refresh_from_db()
        assert api_token.last_used_at == NOW
        traveller.shift(timedelta(seconds=1))
        api_token_authenticate(token=token)
        api_token.refresh_from_db()
        assert api_token.last_used_at == NOW + timedelta(minutes=1)


def bearer(token: str, user=None):
    request = RequestFactory().post("/api/", headers={"Authorization": f"Bearer {token}"})
    request.user = user or AnonymousUser()
    return request


def test_a_bearer_user_token_puts_its_user_on_the_request():
    user = UserFactory.create()
    signed_in = UserFactory.create()
    api_token, token = api_token_create(user=user)
    request = bearer(token, user=signed_in)
    assert BearerAuth(scope=INTAKE)(request) == api_token
    assert request.user == user


def test_a_client_token_acts_as_nobody_whatever_session_came_along():
    api_token, token = api_token_create(client="KHIE", scopes=[INTAKE])
    request = bearer(token, user=UserFactory.create())
    assert BearerAuth(scope=INTAKE)(request) == api_token
    assert isinstance(request.user, AnonymousUser)


def test_a_client_token_without_the_scope_is_forbidden():
    api_token, token = api_token_create(client="KHIE", scopes=[INTAKE])
    ApiToken.objects.filter(pk=api_token.pk).update(scopes=[])
    with pytest.raises(AuthorizationError, match=r"does not have the ondemand\.intake scope"):
        BearerAuth(scope=INTAKE)(bearer(token))


def test_a_bad_token_is_unauthorized_with_a_clear_message():
    with pytest.raises(AuthenticationError, match="not valid or has been revoked"):
        BearerAuth(scope=INTAKE)(bearer("kyt_12345678_nope"))
    request = RequestFactory().post("/api/", headers={"X-API-Key": "kyt_12345678_nope"})
    with pytest.raises(AuthenticationError, match="not valid or has been revoked"):
        ApiKeyAuth(scope=INTAKE)(request)


def test_the_api_key_header_carries_the_same_tokens():
    api_token, token = api_token_create(client="Call centre", scopes=[INTAKE])
    request = RequestFactory().post("/api/", headers={"X-API-Key": token})
    request.user = AnonymousUser()
    assert ApiKeyAuth(scope=INTAKE)(request) == api_token
    # No header is no answer, so that the next way of authenticating is tried.
    assert ApiKeyAuth(scope=INTAKE)(RequestFactory().post("/api/")) is None
    assert [type(auth) for auth in token_auth(scope=INTAKE)] == [BearerAuth, ApiKeyAuth]


def test_the_admin_lists_tokens_without_their_hash(admin_client):
    api_token, token = api_token_create(client="Call centre", scopes=[INTAKE])
    listing = admin_client.get("/admin/accounts/apitoken/")
    assert listing.status_code == 200
    assert api_token.prefix in listing.content.decode()
    detail = admin_client.get(f"/admin/accounts/apitoken/{api_token.pk}/change/").content.decode()
    assert api_token.prefix in detail
    assert api_token.token_hash not in detail
    assert token not in detail
    assert admin_client.get("/admin/accounts/apitoken/add/").status_code == 403
