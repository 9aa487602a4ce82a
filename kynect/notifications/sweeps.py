from kynect.core import sweeper
from kynect.notifications.services import outbox_sweep

sweeper.register("notifications.outbox")(outbox_sweep)
