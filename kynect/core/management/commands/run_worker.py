import signal
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from kynect.core.worker import WorkerLoop


class Command(BaseCommand):
    help = "Run background tasks and the deadline sweeper until stopped (SIGINT or SIGTERM)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--interval", type=float, default=1.0, help="Seconds to wait when idle (default 1)."
        )
        parser.add_argument(
            "--once", action="store_true", help="Run one sweep and drain ready tasks, then exit."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["interval"] < 0:
            self.stderr.write("--interval must be zero or more.")
            raise SystemExit(2)
        loop = WorkerLoop(interval=options["interval"])

        def shut_down(signum: int, frame: FrameType | None) -> None:
            if loop.stopping.is_set():
                if signum == signal.SIGINT:
                    raise KeyboardInterrupt  # a second Ctrl-C: stop now
                return
            self.stdout.write(
                f"Received {signal.strsignal(signum)}: finishing the current task, then stopping."
            )
            loop.stop()

        signal.signal(signal.SIGINT, shut_down)
        signal.signal(signal.SIGTERM, shut_down)
        loop.run(once=options["once"])
