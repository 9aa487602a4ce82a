"""bin/run-cluster: what it refuses, and that `stop` signals only processes it started.

Starting a whole cluster is the load test's work (bench/load/run.py); these tests run the script on what
it must decide before anything starts.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SCRIPT = PROJECT_ROOT / "bin" / "run-cluster"


def run_cluster(*arguments: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    return subprocess.run(
        [str(SCRIPT), *arguments], env={**environment, **env}, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize("database_url", ["", "sqlite:///db.sqlite3"])
def test_start_refuses_sqlite_and_starts_nothing(tmp_path: Path, database_url: str) -> None:
    run_dir = tmp_path / "cluster"
    result = run_cluster("start", DATABASE_URL=database_url, CLUSTER_RUN_DIR=str(run_dir))

    assert result.returncode == 2
    assert "bin/run-cluster needs PostgreSQL" in result.stderr
    assert not run_dir.exists()


@pytest.mark.parametrize("arguments", [(), ("restart",), ("restart-one", "balancer"), ("restart-one",)])
def test_unknown_commands_show_the_usage(arguments: tuple[str, ...]) -> None:
    result = run_cluster(*arguments, DATABASE_URL="postgres://postgres@127.0.0.1:5432/unused")

    assert result.returncode == 2
    assert result.stderr.startswith("usage:")


def test_stop_leaves_alone_a_process_it_did_not_start(tmp_path: Path) -> None:
    """A pid file naming another process (the pid was reused, or the file is stale) is removed, and that
    process is not signalled."""
    run_dir = tmp_path / "cluster"
    run_dir.mkdir()
    # The leader of its own process group, as each part of the cluster is.
    stranger = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True)
    try:
        (run_dir / "app1.pid").write_text(f"{stranger.pid}\n")
        result = run_cluster("stop", CLUSTER_RUN_DIR=str(run_dir))

        assert result.returncode == 0, result.stderr
        assert stranger.poll() is None
        assert not (run_dir / "app1.pid").exists()
    finally:
        stranger.kill()
        stranger.wait()


@pytest.mark.skipif(shutil.which("haproxy") is None, reason="HAProxy is missing: apt-get install haproxy")
def test_the_balancer_configuration_is_valid() -> None:
    env = {
        **os.environ,
        "KYNECT_BALANCER_BIND": "127.0.0.1:8080",
        "KYNECT_APP1": "127.0.0.1:8081",
        "KYNECT_APP2": "127.0.0.1:8082",
        "KYNECT_PROBE_PATH": "/healthz",
        "KYNECT_PROBE_HOST": "127.0.0.1",
    }
    result = subprocess.run(
        ["haproxy", "-c", "-f", str(PROJECT_ROOT / "deploy" / "haproxy.cfg")],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )

    assert result.returncode == 0, result.stdout + result.stderr
