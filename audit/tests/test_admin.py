"""The audit trail in the admin: visible, never editable, reachable from an
object's page."""

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.urls import reverse
from unfold.admin import ModelAdmin

from audit.admin import AuditHistoryMixin
from audit.models import AuditEvent
from audit.services import audit_record, audit_record_bulk

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:audit_auditevent_changelist"


@pytest.fixture
def events():
    group = Group.objects.create(name="财务部")
    return [
        audit_record(action="group.created", obj=group, changes={"after": {"name": "财务部"}}),
        audit_record_bulk(action="billing.chunk", model=Group, ids=[group.pk], fields=["name"]),
    ]


def test_list_and_detail_render_read_only(admin_client, events):
    response = admin_client.get(reverse(CHANGELIST))
    assert response.status_code == 200
    assert response.context["cl"].result_count == 2
    detail = admin_client.get(reverse("admin:audit_auditevent_change", args=[events[0].pk]))
    assert detail.status_code == 200
    assert "财务部" in detail.text
    assert admin_client.get(reverse("admin:audit_auditevent_add")).status_code == 403
    response = admin_client.post(
        reverse("admin:audit_auditevent_delete", args=[events[0].pk]), {"post": "yes"}
    )
    assert response.status_code == 403
    assert AuditEvent.objects.count() == 2


def test_filters_and_search(admin_client, events):
    url = reverse(CHANGELIST)
    response = admin_client.get(url, {"action__exact": "billing.chunk"})
    assert [e.pk for e in response.context["cl"].result_list] == [events[1].pk]
    response = admin_client.get(url, {"q": events[0].object_id})
    assert [e.pk for e in response.context["cl"].result_list] == [events[0].pk]


def test_history_link_lists_the_objects_events(admin_client, events):
    class GroupAdmin(AuditHistoryMixin, ModelAdmin):
        pass

    group = Group.objects.get(name="财务部")
    model_admin = GroupAdmin(Group, admin.site)
    assert "audit_history" in model_admin.get_readonly_fields(None, group)
    link = str(model_admin.audit_history(group))
    url = link.split('href="')[1].split('"')[0].replace("&amp;", "&")
    response = admin_client.get(url)
    assert response.status_code == 200
    # its own event and the bulk event naming it among its rows, newest first
    assert [e.pk for e in response.context["cl"].result_list] == [events[1].pk, events[0].pk]
