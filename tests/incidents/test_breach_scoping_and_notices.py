"""Breach scoping from the audit log, and the Art. 33 notices drafted from it: an acme API key used
from one address reads an evidence file and exports a project → exactly those, in acme only; the
same from the address's network; re-running gives the same digest; globex is never named. A draft
holds every Art. 33(3) item; sending needs them, and a reason once 72 hours have passed; the
organisation's owners and admins are emailed; both chains record it; exercises reach no customer."""

import datetime

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client

from bastion.access_log import configuration as access_log_configuration
from bastion.audit.models import AuditEvent
from bastion.db.platform import PLATFORM_ID
from bastion.incidents import notifications, response, scoping
from bastion.incidents.models import BreachNotice
from bastion.support_access.models import AccessRequest
from bastion.tenancy.context import platform_scope, tenant_context

ATTACKER = "198.51.100.7"


def at(moment):
    return lambda: moment


@pytest.fixture
def staff(django_user_model, db):
    return django_user_model.objects.create_user(email="responder@bastion.example", password="x" * 16)


@pytest.fixture
def breach(world, staff, settings):
    """acme's API key, from the attacker's address: three records read (acme logs record views) and one
    evidence file downloaded; globex's key, from elsewhere, the same kind of thing in the same window."""
    settings.BASTION_SECURITY_CONTACTS = ["mailto:security@bastion.example"]
    with tenant_context(world.acme.organisation.id):
        access_log_configuration.update(world.acme.organisation.id, record_views=True)
    start = datetime.datetime.now(datetime.UTC) - datetime.timedelta(seconds=5)
    for org, address in ((world.acme, ATTACKER), (world.globex, "192.0.2.50")):
        client = Client(HTTP_AUTHORIZATION=f"Bearer {org.api_token}", REMOTE_ADDR=address)
        base = f"/api/v1/orgs/{org.slug}/projects/{org.project.id}"
        for record in org.emissions:
            assert client.get(f"{base}/emissions/{record.id}").status_code == 200
        assert client.get(f"{base}/evidence/{org.evidence.id}/download").status_code == 200
    end = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=1)
    incident = response.declare(title="Leaked CI API key", severity="critical", by=staff,
                                summary="An acme CI key was published in a build log.")
    return incident, start, end


def scope_after(subject, start, end):
    return scoping.scope(subject, start, end, clock=at(end + datetime.timedelta(seconds=1)))


def test_an_api_key_is_scoped_to_what_it_touched_in_its_organisation_only(world, breach):
    incident, start, end = breach
    result = scope_after(scoping.Subject("api_key", world.acme.api_key.public_id), start, end)
    assert [org["slug"] for org in result["organisations"]] == ["acme"]
    acme = result["organisations"][0]
    assert {(r["type"], r["id"], tuple(r["access"])) for r in acme["resources"]} == {
        *(("emission_record", str(record.id), ("read",)) for record in world.acme.emissions),
        ("evidence", str(world.acme.evidence.id), ("read",)),
    }
    assert acme["reads"] == 4 and acme["changes"] == 0 and acme["records"] == 4
    assert acme["categories"] == {"emissions records": 3, "evidence files": 1}
    assert "globex" not in repr(result)


def test_the_attackers_network_finds_what_the_audit_log_holds_and_nothing_of_globex(world, breach):
    """The read-access log keeps no addresses: from a network, the audit log's download is what is found."""
    incident, start, end = breach
    by_network = scope_after(scoping.Subject("network", "198.51.100.0/24"), start, end)
    assert [org["slug"] for org in by_network["organisations"]] == ["acme"]
    assert [(r["type"], r["id"]) for r in by_network["organisations"][0]["resources"]] == [
        ("evidence", str(world.acme.evidence.id))]
    assert scope_after(scoping.Subject("network", "203.0.113.0/24"), start, end)["organisations"] == []


def test_a_saved_scoping_is_evidence_and_re_running_gives_the_same_digest(world, staff, breach):
    incident, start, end = breach
    later = at(end + datetime.timedelta(minutes=5))
    first = scoping.run(incident, scoping.Subject("api_key", world.acme.api_key.public_id), start, end, by=staff,
                        clock=later)
    second = scoping.run(incident, scoping.Subject("api_key", world.acme.api_key.public_id), start, end, by=staff,
                         clock=later)
    assert first.digest == second.digest and len(first.digest) == 64
    with platform_scope():
        assert AuditEvent.objects.filter(action="incident.breach.scoped", resource_id=str(incident.id)).count() == 2


def test_bad_scoping_requests_are_refused(world, breach):
    _, start, end = breach
    for subject, window in [(scoping.Subject("printer", "x"), (start, end)),
                            (scoping.Subject("network", "not-an-address"), (start, end)),
                            (scoping.Subject("api_key", world.acme.api_key.public_id), (end, start))]:
        with pytest.raises(ValidationError):
            scope_after(subject, *window)
    with pytest.raises(ValidationError):  # a window still open could change its answer
        scoping.scope(scoping.Subject("api_key", "k"), start, end, clock=at(start))


def test_a_draft_holds_every_article_33_3_item_and_is_sent_to_owners_and_admins(world, staff, breach, smtp,
                                                                                  django_capture_on_commit_callbacks):
    incident, start, end = breach
    result = scoping.run(incident, scoping.Subject("api_key", world.acme.api_key.public_id), start, end, by=staff,
                         clock=at(end + datetime.timedelta(seconds=1)))
    with pytest.raises(notifications.NotAllowed):
        notifications.draft_notices(incident, result, by=staff)  # not confirmed yet
    confirmed_at = end + datetime.timedelta(minutes=1)
    incident = notifications.confirm_breach(incident, by=staff, clock=at(confirmed_at))
    response.add_note(incident, "Key revoked; build logs purged.", by=staff)
    [notice] = notifications.draft_notices(incident, result, by=staff, clock=at(confirmed_at))
    assert notice.organisation_id == world.acme.organisation.id
    assert notifications.missing_items(notice) == []
    assert notice.approx_records == 4 and "Key revoked" in notice.measures and "security@bastion.example" in \
        notice.contact_point
    assert "invoices and other evidence files" in notice.likely_consequences
    with django_capture_on_commit_callbacks(execute=True):
        notifications.send(notice, by=staff, clock=at(confirmed_at + datetime.timedelta(hours=2)))
    # Through a real SMTP server (aiosmtpd): one message to each owner and admin of acme, nobody else.
    assert sorted(m["To"] for m in smtp.messages) == ["admin@acme.example", "owner@acme.example"]
    assert "Personal data breach notice" in smtp.messages[0]["Subject"]
    body = smtp.messages[0].get_payload(decode=True).decode()
    for item in ("Nature of the breach", "Data subjects concerned", "Personal data records concerned",
                 "Likely consequences", "Measures taken or proposed", "Contact point"):
        assert item in body
    with pytest.raises(notifications.NotAllowed):
        notifications.send(notice, by=staff)
    with tenant_context(world.acme.organisation.id):
        assert AuditEvent.objects.filter(chain_id=world.acme.organisation.id, action="breach.notice.sent").count() == 1
    with platform_scope():
        assert AuditEvent.objects.filter(chain_id=PLATFORM_ID, action="breach.notice.sent",
                                         resource_id=str(notice.id)).count() == 1
    with tenant_context(world.globex.organisation.id):
        assert BreachNotice.objects.filter(incident=incident).count() == 0


def test_a_notice_past_72_hours_needs_a_delay_reason(world, staff, breach):
    incident, start, end = breach
    result = scoping.run(incident, scoping.Subject("network", ATTACKER), start, end, by=staff,
                         clock=at(end + datetime.timedelta(seconds=1)))
    incident = notifications.confirm_breach(incident, by=staff, clock=at(end))
    [notice] = notifications.draft_notices(incident, result, by=staff)
    late = at(end + datetime.timedelta(hours=72, minutes=1))
    with pytest.raises(ValidationError) as refused:
        notifications.send(notice, by=staff, clock=late)
    assert "delay_reason" in refused.value.message_dict
    notice = notifications.send(notice, by=staff, delay_reason="The scoping of the export took a day.", clock=late)
    assert notice.sent_at and notice.delay_reason


def test_an_incomplete_draft_is_not_sent_and_a_sent_one_not_edited(world, staff, breach):
    incident, start, end = breach
    result = scoping.run(incident, scoping.Subject("network", ATTACKER), start, end, by=staff,
                         clock=at(end + datetime.timedelta(seconds=1)))
    incident = notifications.confirm_breach(incident, by=staff)
    [notice] = notifications.draft_notices(incident, result, by=staff)
    notice = notifications.edit(notice, by=staff, likely_consequences="")
    with pytest.raises(ValidationError):
        notifications.send(notice, by=staff)
    with pytest.raises(ValidationError):
        notifications.edit(notice, by=staff, organisation="globex")
    notice = notifications.edit(notice, by=staff, likely_consequences="Evidence files may be disclosed.")
    notifications.send(notice, by=staff)
    with pytest.raises(notifications.NotAllowed):
        notifications.edit(notice, by=staff, measures="more")


def test_an_exercise_notice_reaches_the_operators_only(world, staff, breach, settings,
                                                       django_capture_on_commit_callbacks):
    _, start, end = breach
    settings.BASTION_ALERT_EMAILS = ["oncall@bastion.example"]
    drill = response.declare(title="Tabletop: leaked key", severity="high", exercise=True, by=staff)
    result = scoping.run(drill, scoping.Subject("network", ATTACKER), start, end, by=staff,
                         clock=at(end + datetime.timedelta(seconds=1)))
    drill = notifications.confirm_breach(drill, by=staff)
    [notice] = notifications.draft_notices(drill, result, by=staff)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        notifications.send(notice, by=staff)
    assert [m.to for m in mail.outbox] == [["oncall@bastion.example"]]
    assert "[EXERCISE]" in mail.outbox[0].subject


def test_an_organisation_reads_its_sent_notices_and_nobody_elses(world, staff, breach, client_for):
    incident, start, end = breach
    result = scoping.run(incident, scoping.Subject("network", ATTACKER), start, end, by=staff,
                         clock=at(end + datetime.timedelta(seconds=1)))
    incident = notifications.confirm_breach(incident, by=staff)
    [draft] = notifications.draft_notices(incident, result, by=staff)
    admin = client_for(world.acme.users["admin"])
    listed = admin.get("/api/v1/orgs/acme/notices").json()["items"]
    assert str(draft.id) not in [n["id"] for n in listed]  # a draft is Bastion's own until sent
    notifications.send(draft, by=staff)
    listed = admin.get("/api/v1/orgs/acme/notices").json()["items"]
    assert [n["incident"] for n in listed if n["id"] == str(draft.id)] == [incident.reference]
    one = admin.get(f"/api/v1/orgs/acme/notices/{draft.id}").json()
    assert one["approx_records"] == 1 and one["contact_point"]
    page = admin.get("/o/acme/security/notices/").content.decode()
    assert incident.reference in page and "Nature of the breach" in page
    assert client_for(world.acme.users["editor"]).get("/api/v1/orgs/acme/notices").status_code == 403
    outsider = client_for(world.globex.users["admin"])
    assert outsider.get(f"/api/v1/orgs/globex/notices/{draft.id}").status_code == 404
    assert incident.reference not in outsider.get("/o/globex/security/notices/").content.decode()
    assert outsider.get("/api/v1/orgs/acme/notices").status_code == 404


def test_a_staff_grants_activity_is_scoped_the_same_way(world, client_for, django_user_model, staff):
    """A support engineer's grant on acme: a record opened, an evidence file downloaded, a globex page
    refused — the scoping names the record and the file, in acme only."""
    engineer = django_user_model.objects.create_user(email="eng@staff.example", staff_role="support",
                                                     email_verified=True)
    support = client_for(engineer)
    asked = support.post("/staff/access-requests/", {"organisation": "acme", "reason": "support",
                                                     "reference": "ZD-1", "mode": "read_only", "minutes": 60})
    assert asked.status_code == 302
    with platform_scope():
        grant = AccessRequest.all_tenants.get(requested_by=engineer)
    admin = client_for(world.acme.users["admin"])
    assert admin.post(f"/api/v1/orgs/acme/access-requests/{grant.id}/approve").status_code == 200
    start = datetime.datetime.now(datetime.UTC)
    acme = world.acme
    assert support.get(f"/o/acme/p/{acme.project.id}/emissions/{acme.emission.id}/").status_code == 200
    assert support.get(f"/o/acme/p/{acme.project.id}/evidence/{acme.evidence.id}/download/").status_code == 200
    assert support.get(f"/o/globex/p/{world.globex.project.id}/emissions/{world.globex.emission.id}/"
                       ).status_code == 404
    end = datetime.datetime.now(datetime.UTC)
    result = scope_after(scoping.Subject("staff_grant", str(grant.id)), start, end)
    [scoped] = result["organisations"]
    assert scoped["slug"] == "acme" and scoped["changes"] == 0
    assert {(r["type"], r["id"]) for r in scoped["resources"]} == {
        ("emission_record", str(acme.emission.id)), ("evidence", str(acme.evidence.id))}
    assert "globex" not in repr(result)


def test_a_user_is_scoped_by_email_or_id_through_their_pseudonyms(world, client_for):
    """A user account: found in each chain by its pseudonym there (audit log and read-access log)."""
    viewer, acme = world.acme.users["viewer"], world.acme
    start = datetime.datetime.now(datetime.UTC)
    client = client_for(viewer)
    assert client.get(f"/api/v1/orgs/acme/projects/{acme.project.id}/evidence/{acme.evidence.id}/download"
                      ).status_code == 200
    end = datetime.datetime.now(datetime.UTC)
    by_email = scope_after(scoping.Subject("user", viewer.email), start, end)
    assert [org["slug"] for org in by_email["organisations"]] == ["acme"]
    assert ("evidence", str(acme.evidence.id)) in {(r["type"], r["id"]) for r in by_email["organisations"][0]["resources"]}
    assert scope_after(scoping.Subject("user", str(viewer.pk)), start, end)["organisations"] == by_email["organisations"]
    with pytest.raises(ValidationError):
        scope_after(scoping.Subject("user", "nobody@nowhere.example"), start, end)
