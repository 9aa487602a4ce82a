"""Settings for the test suite: the `test` environment of `config.settings`."""

import os

os.environ["DJANGO_ENV"] = "test"

from config.settings import *  # noqa: F403
