"""Settings for the test suite: the `test` environment of `config.settings`."""

import copy
import os
import uuid

os.environ["DJANGO_ENV"] = "test"

from config.settings import *  # noqa: F403
from config.settings import BASE_DIR, LOGGING

# WhiteNoise would index every static file each time a test client starts; look files up on demand.
WHITENOISE_AUTOREFRESH = True

# Every record the suite logs also goes, through the filters and the production (JSON) formatter, to a
# file per process (the `leak_scan` handler) in one folder per run. When the session ends, the root
# conftest scans them for the demo people's personal data (tests/log_scan.py). The controller names the
# run before pytest-xdist starts its workers, which inherit the name, so the files of one run sit
# together and apart from other runs.
_log_run = os.environ.setdefault("KYNECT_TEST_LOG_RUN", uuid.uuid4().hex[:12])
_log_dir = BASE_DIR / "var" / "test-logs" / _log_run
_log_dir.mkdir(parents=True, exist_ok=True)
LOGGING = copy.deepcopy(LOGGING)
LOGGING["handlers"]["console"]["level"] = os.environ.get("DJANGO_LOG_LEVEL", "INFO")
LOGGING["handlers"]["leak_scan"] = {
    "class": "logging.FileHandler",
    "filename": str(_log_dir / f"{os.environ.get('PYTEST_XDIST_WORKER', 'main')}-{os.getpid()}.log"),
    "encoding": "utf-8",
    "filters": ["log_context", "mask_pii"],
    "formatter": "json",
}
# DEBUG: what the loggers write when an operator turns DJANGO_LOG_LEVEL down to DEBUG, so Django's own
# stay at INFO and its SQL log at WARNING, as config.settings keeps them. Also left out: the test tools
# factory_boy and Faker, which production never runs (factory_boy prints the arguments a test gives its
# factories).
LOGGING["root"] = {"handlers": ["console", "leak_scan"], "level": "DEBUG"}
LOGGING["loggers"]["factory"] = {"level": "INFO"}
LOGGING["loggers"]["faker"] = {"level": "INFO"}
