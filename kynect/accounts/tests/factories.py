from __future__ import annotations

from functools import lru_cache

import factory
from django.contrib.auth.hashers import make_password

from kynect.accounts.models import Membership, Organization, Role, User
from kynect.core import clock

TEST_PASSWORD = "correct-horse-battery-staple"


@lru_cache(maxsize=1)
def _test_password_hash() -> str:
    # Argon2 is slow on purpose; hash the shared test password once per process.
    return make_password(TEST_PASSWORD)


class OrganizationFactory(factory.django.DjangoModelFactory[Organization]):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Test Organization {n}")
    type = Organization.Type.NOT_FOR_PROFIT
    city = "Frankfort"
    postal_code = "40601"
    # Onboarded exactly when approved (a constraint): pass `onboarded_at` for a KY Partner.
    onboarded_at = None
    status = factory.LazyAttribute(
        lambda organization: (
            Organization.Status.APPROVED if organization.onboarded_at else Organization.Status.APPLIED
        )
    )


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.org")
    first_name = "Test"
    last_name = factory.Sequence(lambda n: f"Person{n}")
    password = factory.LazyFunction(_test_password_hash)


class MembershipFactory(factory.django.DjangoModelFactory[Membership]):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    # A member of an organization that has completed onboarding, unless a test says otherwise.
    organization = factory.SubFactory(OrganizationFactory, onboarded_at=factory.LazyFunction(clock.now))
    role = Role.PARTNER_USER
