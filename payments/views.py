"""The endpoint gateways post their asynchronous notifications to."""

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from payments.services.notifications import notification_receive


@csrf_exempt  # gateways sign their messages; there is no session to forge
@require_POST
def gateway_notification(request: HttpRequest, method: str) -> HttpResponse:
    reply = notification_receive(method, request.headers, request.body)
    return HttpResponse(reply.body, status=reply.status, content_type=reply.content_type)
