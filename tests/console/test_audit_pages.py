"""The audit log page: admins browse and filter their organisation's events and see its integrity."""

from __future__ import annotations

import io
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from bastion.audit.models import VerificationResult
from bastion.commands.audit import verify
from bastion.tenancy import context

pytestmark = pytest.mark.django_db


def audit_url(org, **query) -> str:
    url = reverse("console:audit", kwargs={"org": org.slug})
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def test_admin_sees_their_events_and_the_integrity_panel(client_for, world):
    response = client_for(world.acme.users["admin"]).get(audit_url(world.acme))
    assert response.status_code == 200
    html = response.content.decode()
    assert "member.added" in html and "admin@acme.example" in html
    assert "Integrity" in html and "Not verified yet" in html
    assert "globex" not in html.lower()
    seqs = [event.seq for event in response.context["page"].object_list]
    assert seqs == sorted(seqs, reverse=True)
    # The short hash, with the full one in its title.
    newest = response.context["page"].object_list[0]
    assert f'<code title="{newest.hash}">{newest.hash[:12]}</code>' in html
    # The nav link and the export, for an admin.
    assert 'href="/o/acme/audit/"' in html
    assert 'href="/api/v1/orgs/acme/audit/export"' in html and "bastion-verify" in html


def test_filtering_by_action_narrows_the_list(client_for, world):
    client = client_for(world.acme.users["admin"])
    everything = client.get(audit_url(world.acme)).context["page"]
    members = client.get(audit_url(world.acme, action="member.added")).context["page"]
    assert 0 < members.paginator.count < everything.paginator.count
    assert {event.action for event in members.object_list} == {"member.added"}
    by_prefix = client.get(audit_url(world.acme, action="workspace.")).context["page"]
    assert by_prefix.object_list and all(e.action.startswith("workspace.") for e in by_prefix.object_list)
    nobody = client.get(audit_url(world.acme, actor="nobody@example.com")).context["page"]
    assert nobody.paginator.count == 0


def test_editors_and_viewers_are_refused(client_for, world):
    for role in ("editor", "viewer"):
        client = client_for(world.acme.users[role])
        assert client.get(audit_url(world.acme)).status_code == 403
        assert b"Audit log" not in client.get(reverse("console:dashboard", kwargs={"org": "acme"})).content


def test_the_outsider_gets_404_and_nothing_of_acme(client_for, world):
    outsider = client_for(world.globex.users["owner"])
    response = outsider.get(audit_url(world.acme))
    assert response.status_code == 404
    assert b"acme" not in response.content.lower()
    own = outsider.get(audit_url(world.globex))
    assert own.status_code == 200
    assert b"acme" not in own.content.lower()


def test_a_bad_date_is_a_form_error(client_for, world):
    client = client_for(world.acme.users["admin"])
    response = client.get(audit_url(world.acme, since="not-a-date"))
    assert response.status_code == 200
    assert response.context["filters"].has_error("since")
    assert response.context["page"] is None
    reversed_range = client.get(audit_url(world.acme, since="2025-02-01", until="2025-01-01"))
    assert reversed_range.status_code == 200 and reversed_range.context["filters"].non_field_errors()
    unknown_action = client.get(audit_url(world.acme, action="no.such.action"))
    assert unknown_action.status_code == 200 and unknown_action.context["filters"].has_error("action")
    nul = client.get(audit_url(world.acme, actor="a%00b"))
    assert nul.status_code == 200 and nul.context["filters"].has_error("actor")


def test_dates_bound_the_list_in_utc(client_for, world):
    client = client_for(world.acme.users["admin"])
    today = timezone.now().date().isoformat()
    assert client.get(audit_url(world.acme, since=today, until=today)).context["page"].paginator.count > 0
    assert client.get(audit_url(world.acme, until="2000-01-01")).context["page"].paginator.count == 0
    extremes = client.get(audit_url(world.acme, since="0001-01-01", until="9999-12-31"))
    assert extremes.status_code == 200 and extremes.context["page"].paginator.count > 0
    assert client.get(audit_url(world.acme, since="9999-12-31")).context["page"].paginator.count == 0


def test_the_page_shows_a_passed_verification(client_for, world):
    assert verify("acme", out=io.StringIO(), err=io.StringIO()) == 0
    response = client_for(world.acme.users["admin"]).get(audit_url(world.acme))
    html = response.content.decode()
    assert '<strong class="verification-ok">OK</strong>' in html
    assert "Not verified yet" not in html and "integrity broken" not in html
    assert "audit.verification.passed" in html


def test_a_broken_verification_stands_out(client_for, world):
    now = timezone.now()
    with context.tenant_context(world.acme.organisation.id):
        VerificationResult.objects.create(
            run_id=uuid.uuid4(), chain_id=world.acme.organisation.id, started_at=now, finished_at=now, ok=False,
            events=7, checkpoints=0, first_bad_seq=5, message="event 5: hash does not match",
        )
    html = client_for(world.acme.users["owner"]).get(audit_url(world.acme)).content.decode()
    assert 'class="panel integrity broken"' in html
    assert "BROKEN" in html and "First bad sequence number 5: event 5: hash does not match" in html


def test_changes_show_before_and_after(client_for, world):
    acme = world.acme
    client = client_for(acme.users["owner"])
    edit = reverse("console:member_edit", kwargs={"org": "acme", "membership_id": acme.viewer_membership.id})
    assert client.post(edit, {"role": "editor"}).status_code == 302
    html = client.get(audit_url(acme, action="member.role_changed")).content.decode()
    assert '<span class="change-field">role</span>: viewer → editor' in html
    assert '<span class="change-field">user</span>: viewer@acme.example' in html
    # A created role's two permissions are a value, not a before and after.
    created = client.get(audit_url(acme, action="role.created")).content.decode()
    assert '<span class="change-field">permissions</span>: [&quot;records.view&quot;, &quot;evidence.view&quot;]' in created


def test_every_member_sees_the_latest_checkpoint_to_keep(world, client_for):
    import datetime

    from bastion.audit.checkpoints import checkpoint_due
    from bastion.audit.offline import load_trusted_checkpoint

    url = reverse("console:audit_checkpoint", kwargs={"org": world.acme.slug})
    viewer = client_for(world.acme.users["viewer"])
    assert "No checkpoint has been signed yet" in viewer.get(url).content.decode()
    checkpoint_due(lambda: timezone.now() + datetime.timedelta(seconds=60))
    page = viewer.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "--trusted-checkpoint" in html and 'href="/api/v1/orgs/acme/audit/checkpoint"' in html
    assert 'href="/o/acme/audit/checkpoint/"' in html  # in the viewer's navigation
    download = viewer.get("/api/v1/orgs/acme/audit/checkpoint")
    assert load_trusted_checkpoint(download.content.decode())["body"]["chain"] == str(world.acme.organisation.id)
    assert client_for(world.globex.users["owner"]).get(url).status_code == 404
