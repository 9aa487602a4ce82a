"""What the notifications app runs in the worker: the outbox sweep (stale claims released) and one
sender per channel, each in a side loop of its own (ADR 0034)."""

from functools import partial

from kynect.core import sweeper
from kynect.core.worker import side_loop_register
from kynect.notifications.delivery import outbox_send_pass
from kynect.notifications.models import OutboundMessage
from kynect.notifications.services import outbox_sweep

sweeper.register("notifications.outbox")(outbox_sweep)

for _channel in OutboundMessage.Channel.values:
    side_loop_register(f"notifications.outbox.{_channel}", partial(outbox_send_pass, channel=_channel))
