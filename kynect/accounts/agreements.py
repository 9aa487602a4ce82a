"""The versions of the user agreement and of the privacy and security training in force.

The agreement's words are the resources overview's (its "Important language from user agreement"), shown
by `templates/accounts/components/user_agreement.html`. A new version of either asks everyone again: the
agreement of organizations that apply from then on, the training of every user before resident data.
"""

USER_AGREEMENT_VERSION = "2026.1"
PRIVACY_TRAINING_VERSION = "2026.1"
