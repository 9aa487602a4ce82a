from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from kynect.notifications.services import inbound_sms_handle
from kynect.notifications.sms import get_sms_backend

EMPTY_REPLY = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


@csrf_exempt  # a provider's webhook: authenticated by its signature instead
@require_POST
def inbound_sms(request: HttpRequest) -> HttpResponse:
    if not get_sms_backend().verify_inbound(request):
        return HttpResponse("Invalid signature.", status=403, content_type="text/plain")
    from_number = request.POST.get("From", "")
    body = request.POST.get("Body")
    if not from_number or body is None:
        return HttpResponse("From and Body are required.", status=400, content_type="text/plain")
    try:
        inbound_sms_handle(from_number=from_number, body=body)
    except ValidationError:
        return HttpResponse("From is not a U.S. phone number.", status=400, content_type="text/plain")
    return HttpResponse(EMPTY_REPLY, content_type="text/xml")
