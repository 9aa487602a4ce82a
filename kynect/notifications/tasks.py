from django_tasks import task

from kynect.notifications.services import message_deliver


@task()
def send_message(*, message_id: str) -> str:
    return message_deliver(message_id=message_id)
