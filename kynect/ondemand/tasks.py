"""Background work of kynect On Demand: routing a new help request, in the worker rather than in the web
request that submitted it, so that a burst of requests is answered at the speed of an insert."""

from django_tasks import task

from kynect.ondemand.services import offers


@task()
def route_help_request(*, help_request_id: str) -> str:
    """Route the request (idempotent: a request already offered, closed or not yet due is left alone).
    If this task is lost, the sweeper routes the request from its `route_at`."""
    result = offers.help_request_route(help_request_id=help_request_id)
    return "offered" if result.offers else result.reason or "waiting"
