"""Settings for the test suite: the `test` environment of `config.settings`."""

import os

os.environ["DJANGO_ENV"] = "test"

from config.settings import *  # noqa: F403

# WhiteNoise would index every static file each time a test client starts; look files up on demand.
WHITENOISE_AUTOREFRESH = True
