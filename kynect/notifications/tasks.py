from django_tasks import task

from kynect.notifications.delivery import message_deliver


@task()
def send_message(*, message_id: str) -> str:
    return message_deliver(message_id=message_id)


@task()
def send_messages(*, message_ids: list[str]) -> list[str]:
    """Several messages queued together (`messages_queue`), sent one after another."""
    return [message_deliver(message_id=message_id) for message_id in message_ids]
