"""Staff access requests and grants (issue 18 parts 2–3): asked by staff, approved by the
organisation's admins (one or two, never the asker), open on the clock, revocable at once, checked
by the one authorization function on every request; every request under a grant in the
organisation's audit chain and its feed; reviews after the end; break-glass. Here through Django's
test client with the clock moved in-process; the same flows in Chromium against ``bastion demo``
(its clock moved by tests/shifted_clock) are in test_staff_access_in_browser.py."""

from __future__ import annotations

import json

import pytest

from bastion.audit.models import AuditEvent
from bastion.support_access import notifications, requests
from bastion.support_access.audit_actions import BREAK_GLASS_OPENED, GRANT_USED
from bastion.support_access.models import AccessRequest
from bastion.tenancy import context
from tests.support_access.conftest import body, mails_to, signed_link


def _ask(client, org="acme", **fields):
    data = {"organisation": org, "reason": "support", "reference": "ZD-4711", "details": "CSV import fails",
            "mode": "read_only", "minutes": 60, "workspaces": "", "projects": "", **fields}
    response = client.post("/staff/access-requests/", data)
    assert response.status_code == 302, response.content[-1500:]
    with context.platform_scope():
        return AccessRequest.all_tenants.filter(organisation__slug=org).order_by("-created_at").first()


def _record_url(org_ns, record=None) -> str:
    record = record or org_ns.emission
    return f"/o/{org_ns.slug}/p/{org_ns.project.id}/emissions/{record.id}/"


def _api(client, org, request_id, verb):
    return client.post(f"/api/v1/orgs/{org}/access-requests/{request_id}/{verb}")


def test_ask_approve_from_the_emailed_link_use_feed_expire_review(world, staff, client_for, smtp, move_clock,
                                                                  django_capture_on_commit_callbacks):
    acme, globex = world.acme, world.globex
    support = staff.clients["support"]
    record_url = _record_url(acme)
    assert support.get(record_url).status_code == 404  # no grant: nothing
    with django_capture_on_commit_callbacks(execute=True):
        asked = _ask(support)
    assert asked.state == "pending" and asked.organisation_id == acme.organisation.id

    # Each of acme's admins (owner, admin) gets their own signed link; nobody at globex hears of it.
    admin_mail, owner_mail = mails_to(smtp, acme.users["admin"].email), mails_to(smtp, acme.users["owner"].email)
    assert len(admin_mail) == 1 and len(owner_mail) == 1 and "ZD-4711" in body(admin_mail[0])
    assert not any(globex.slug in m["To"] for m in smtp.messages)
    admin = client_for(acme.users["admin"])
    link = signed_link(admin_mail[0])
    assert admin.get(signed_link(owner_mail[0])).status_code == 404  # the owner's link is not the admin's
    assert admin.get(link.replace("?t=", "?t=x")).status_code == 404
    page = admin.get(link)
    assert page.status_code == 200 and b"ZD-4711" in page.content
    assert support.get(record_url).status_code == 404  # still pending
    assert admin.post(f"/o/acme/security/access/{asked.id}/approve/").status_code == 302

    # Open: the staff member reads the record (a viewer's powers: read-only), and nothing of globex.
    opened = support.get(record_url)
    assert opened.status_code == 200 and acme.emission.activity.encode() in opened.content
    assert support.post(f"/o/acme/p/{acme.project.id}/emissions/{acme.emission.id}/delete/").status_code == 403
    assert support.get(_record_url(globex)).status_code == 404
    assert support.get(_record_url(acme, globex.emission).replace(str(acme.project.id),
                                                                 str(globex.project.id))).status_code == 404
    assert staff.clients["support2"].get(record_url).status_code == 404  # the grant is this staff member's only

    # The feed: that exact record, with the grant and its reason, in acme's chain; globex's has nothing.
    feed = admin.get("/api/v1/orgs/acme/access-requests/feed").json()
    viewed = [e for e in feed if e["path"] == record_url]
    assert viewed and viewed[0]["grant"] == str(asked.id) and viewed[0]["reference"] == "ZD-4711"
    assert viewed[0]["staff_member"] == "support@staff.example" and viewed[0]["status"] == 200
    with context.tenant_context(acme.organisation.id):
        event = AuditEvent.objects.filter(chain_id=acme.organisation.id, action=GRANT_USED,
                                          changes__path=record_url).get()
    assert event.changes["reason"] == "support" and event.resource_id == str(asked.id)
    with context.tenant_context(globex.organisation.id):
        assert not AuditEvent.objects.filter(chain_id=globex.organisation.id, action=GRANT_USED).exists()
    assert record_url.encode() in admin.get("/o/acme/security/access/").content
    live_feed = admin.get("/o/acme/security/access/feed/")  # what the page's script swaps in
    assert record_url.encode() in live_feed.content and live_feed["Cache-Control"] == "no-store"
    assert client_for(globex.users["admin"]).get("/o/acme/security/access/feed/").status_code == 404
    assert support.get("/o/acme/security/access/feed/").status_code == 403  # a grant does not show staff the feed
    assert client_for(globex.users["admin"]).get("/api/v1/orgs/acme/access-requests/feed").status_code == 404

    # The digest mails each acme admin the list.
    smtp.messages.clear()
    assert notifications.send_digests() == 2
    assert record_url in body(mails_to(smtp, acme.users["admin"].email)[0])

    # At the end of the hour (the clock moved), the next request is refused; the job asks for reviews.
    move_clock(61)
    assert support.get(record_url).status_code == 404
    smtp.messages.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert requests.expire_and_ask_for_reviews() == {"expired": 0, "reviews_asked": 1}
    assert mails_to(smtp, acme.users["owner"].email) and mails_to(smtp, "security@staff.example")
    assert not mails_to(smtp, "support2@staff.example")
    security_page = admin.get("/o/acme/security/access/")
    assert b"access-unreviewed" in security_page.content and str(asked.id).encode() in security_page.content
    assert b"1 ended staff access grant not yet reviewed" in client_for(acme.users["owner"]).get("/o/acme/security/").content
    assert _api(admin, "acme", asked.id, "review").json()["org_reviewed_at"]
    assert staff.clients["support2"].post(f"/staff/access-requests/{asked.id}/review/").status_code == 404
    assert staff.clients["security"].post(f"/staff/access-requests/{asked.id}/review/").status_code == 302
    assert b"access-unreviewed" not in admin.get("/o/acme/security/access/").content
    assert b"Every ended staff access grant is reviewed" in client_for(acme.users["owner"]).get("/o/acme/security/").content


def test_revoking_mid_grant_works_at_once(world, staff, client_for):
    support, admin = staff.clients["support"], client_for(world.acme.users["admin"])
    asked = _ask(support, mode="read_write", minutes=480)
    assert _api(admin, "acme", asked.id, "approve").json()["open"] is True
    record_url = _record_url(world.acme)
    assert support.get(record_url).status_code == 200
    # A change under a read-write grant: made, and in the feed as a change with the grant.
    api_record = f"/api/v1/orgs/acme/projects/{world.acme.project.id}/emissions/{world.acme.emission.id}"
    changed = support.patch(api_record, data=json.dumps({"site": "Leeds"}), content_type="application/json")
    assert changed.status_code == 200 and changed.json()["site"] == "Leeds"
    feed = admin.get("/api/v1/orgs/acme/access-requests/feed").json()
    assert {"method": "PATCH", "path": api_record, "grant": str(asked.id)}.items() <= feed[0].items()
    assert client_for(world.globex.users["admin"]).post(
        f"/api/v1/orgs/globex/access-requests/{asked.id}/revoke").status_code == 404
    revoked = _api(admin, "acme", asked.id, "revoke")
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    assert support.get(record_url).status_code == 404
    assert support.get(f"/api/v1/orgs/acme/projects/{world.acme.project.id}/emissions").status_code == 404
    assert _api(admin, "acme", asked.id, "revoke").json()["error"]["code"] == "not_open"
    [mine] = support.get("/api/v1/staff/access-requests").json()
    assert mine["id"] == str(asked.id) and mine["organisation"] == "acme" and mine["revoked_at"] and not mine["open"]
    assert staff.clients["support2"].get("/api/v1/staff/access-requests").json() == []
    assert admin.get("/api/v1/staff/access-requests").status_code == 404


def test_two_approvers_self_approval_expiry_and_limits(world, staff, client_for, move_clock):
    acme = world.acme
    owner, admin = client_for(acme.users["owner"]), client_for(acme.users["admin"])
    assert owner.post("/o/acme/security/access/policy/", {"approvers_required": "2"}).status_code == 302
    asked = _ask(staff.clients["support"])
    assert asked.approvers_required == 2
    first = _api(admin, "acme", asked.id, "approve").json()
    assert first["state"] == "pending" and first["approvals"] == [acme.users["admin"].email]
    assert staff.clients["support"].get(_record_url(acme)).status_code == 404  # one of two: not yet
    again = _api(admin, "acme", asked.id, "approve")
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_approved"
    assert _api(owner, "acme", asked.id, "approve").json()["open"] is True
    assert staff.clients["support"].get(_record_url(acme)).status_code == 200

    # Nobody approves their own request: staff cannot reach the organisation's approval, and the
    # service refuses it whoever calls it.
    own = _ask(staff.clients["support2"])
    assert _api(staff.clients["support2"], "acme", own.id, "approve").status_code == 404
    with context.tenant_context(acme.organisation.id), pytest.raises(requests.Refused) as refused:
        requests.approve(own, staff.users["support2"])
    assert refused.value.code == "self_approval"

    # Unanswered, a request expires: the job marks it, and it can no longer be approved.
    move_clock(24 * 60 + 1)
    late = _api(admin, "acme", own.id, "approve")
    assert late.status_code == 409 and late.json()["error"]["code"] == "expired"
    assert requests.expire_and_ask_for_reviews()["expired"] == 3  # with the world's two waiting requests
    with context.platform_scope():
        assert AccessRequest.all_tenants.get(id=own.id).state == "expired"

    # Limits: at most 8 hours; a support request names its ticket; operators do not ask.
    assert staff.clients["support"].post("/staff/access-requests/", {
        "organisation": "acme", "reason": "support", "reference": "T", "mode": "read_only", "minutes": 481}
    ).status_code == 400
    assert staff.clients["support"].post("/staff/access-requests/", {
        "organisation": "acme", "reason": "support", "reference": "", "mode": "read_only", "minutes": 60}
    ).status_code == 400


def test_break_glass_opens_at_once_on_a_second_staff_members_approval(world, staff, client_for, smtp,
                                                                     django_capture_on_commit_callbacks):
    acme = world.acme
    asker = staff.clients["security"]
    with django_capture_on_commit_callbacks(execute=True):
        asked = _ask(asker, reason="incident", reference="INC-9", break_glass="on", minutes=30)
    assert asked.break_glass and asked.state == "pending"
    assert smtp.messages == []  # the organisation hears when it opens, not before
    # Not the asker, not support staff, not the organisation's admins: a second security staff member.
    assert asker.post(f"/staff/access-requests/{asked.id}/break-glass/").status_code == 302
    assert staff.clients["support"].post(f"/staff/access-requests/{asked.id}/break-glass/").status_code == 404
    assert _api(client_for(acme.users["admin"]), "acme", asked.id, "approve").status_code == 409
    waiting = client_for(acme.users["admin"]).get(f"/o/acme/security/access/{asked.id}/")
    assert b"INC-9" in waiting.content and b"/approve/" not in waiting.content  # no approval of theirs to give
    with context.platform_scope():
        assert AccessRequest.all_tenants.get(id=asked.id).state == "pending"
    assert asker.get(_record_url(acme)).status_code == 404
    with django_capture_on_commit_callbacks(execute=True):
        assert staff.clients["security2"].post(f"/staff/access-requests/{asked.id}/break-glass/").status_code == 302
    assert asker.get(_record_url(acme)).status_code == 200
    told = mails_to(smtp, acme.users["admin"].email)
    assert told and "Break-glass" in body(told[0]) and "INC-9" in body(told[0])
    with context.tenant_context(acme.organisation.id):
        assert AuditEvent.objects.filter(chain_id=acme.organisation.id, action=BREAK_GLASS_OPENED).exists()
    listed = client_for(acme.users["admin"]).get("/api/v1/orgs/acme/access-requests").json()
    [grant] = [r for r in listed if r["id"] == str(asked.id)]
    assert grant["break_glass"] and grant["open"] and grant["minutes"] == 30
    # Longer than an hour, or not for an incident, is refused.
    assert asker.post("/staff/access-requests/", {"organisation": "acme", "reason": "incident", "reference": "I",
                                                   "mode": "read_only", "minutes": 61, "break_glass": "on"}
                      ).status_code == 400


def test_a_grant_on_a_named_project_reaches_that_project_only(world, staff, client_for):
    acme = world.acme
    support = staff.clients["support"]
    refused = support.post("/staff/access-requests/", {
        "organisation": "acme", "reason": "legal", "reference": "CASE-1", "mode": "read_only", "minutes": 60,
        "projects": str(world.globex.project.id)})
    assert refused.status_code == 400  # another organisation's project is no project of acme's
    asked = _ask(support, reason="legal", reference="CASE-2", projects=str(acme.project.id))
    assert asked.project_ids == [str(acme.project.id)] and asked.workspace_ids == []
    _api(client_for(acme.users["owner"]), "acme", asked.id, "approve")
    assert support.get(_record_url(acme)).status_code == 200
    assert support.get(f"/o/acme/p/{acme.other_project.id}/").status_code == 404
    assert support.get(f"/api/v1/orgs/acme/projects/{acme.other_project.id}/emissions").status_code == 404
    assert support.get("/o/acme/members/").status_code == 403  # the organisation itself: no more than its name
