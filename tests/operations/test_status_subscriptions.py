"""Incident emails through a real SMTP server (aiosmtpd): subscribe → confirm from the emailed
link → notified of an incident → one-click unsubscribe (RFC 8058 POST) → nothing more. The form
never tells whether an address is subscribed, and it is rate-limited."""

from __future__ import annotations

import re

import pytest
from django.core import signing
from django.test import Client

from bastion.operations import incidents, subscriptions
from bastion.operations.models import Subscriber

pytestmark = pytest.mark.django_db

LINK = re.compile(r"http://testserver(/status/confirm/\S+)")


def _body(message) -> str:
    return message.get_payload(decode=True).decode()


def _notifier():
    from bastion.operations.tasks import notify_subscribers

    return lambda incident_id, update_id: notify_subscribers(incident_id, update_id, "http://testserver")


def test_subscription_round_trip(smtp, jobs_now, world, django_capture_on_commit_callbacks):
    browser = Client(enforce_csrf_checks=False)
    answer = browser.post("/status/subscribe", {"email": "Reader@Customer.EXAMPLE"})
    assert answer.status_code == 202 and b"Check your inbox" in answer.content
    assert len(smtp.messages) == 1
    confirmation = smtp.messages[0]
    assert confirmation["To"] == "Reader@customer.example"
    confirm_path = LINK.search(_body(confirmation)).group(1)
    assert not Subscriber.objects.get().confirmed
    # Opening the link (as a mail scanner would) subscribes nobody; the button on the page does.
    page = browser.get(confirm_path)
    assert page.status_code == 200 and b'id="confirm"' in page.content
    assert not Subscriber.objects.get().confirmed
    assert browser.post(confirm_path).status_code == 200
    assert Subscriber.objects.get().confirmed

    smtp.messages.clear()
    with django_capture_on_commit_callbacks(execute=True):
        incident = incidents.open_incident(title="Exports delayed", impact="minor", status="investigating",
                                           body="Exports are queued.", components=["object_storage"],
                                           notify=_notifier())
    assert len(smtp.messages) == 1
    notice = smtp.messages[0]
    assert "Exports delayed" in notice["Subject"] and "Exports are queued." in _body(notice)
    assert notice["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    header = "".join(notice["List-Unsubscribe"].split())  # unfolded (a long header is folded over lines)
    unsubscribe_url = re.fullmatch(r"<(https?://testserver(/status/unsubscribe/\S+))>", header)
    assert unsubscribe_url and unsubscribe_url.group(1) in _body(notice)

    # One click: the mail client POSTs without a session or CSRF token.
    one_click = Client(enforce_csrf_checks=True).post(unsubscribe_url.group(2), "List-Unsubscribe=One-Click",
                                                      content_type="application/x-www-form-urlencoded")
    assert one_click.status_code == 200 and not Subscriber.objects.exists()

    smtp.messages.clear()
    with django_capture_on_commit_callbacks(execute=True):
        incidents.post_update(incident, status="resolved", body="All exports delivered.", notify=_notifier())
    assert smtp.messages == []
    # The old links now lead nowhere, harmlessly.
    assert browser.post(confirm_path).status_code == 400
    assert Client().post(unsubscribe_url.group(2)).status_code == 200


def test_the_answer_never_tells_whether_an_address_is_subscribed(smtp, jobs_now):
    first = Client().post("/status/subscribe", {"email": "known@customer.example"})
    subscriber = Subscriber.objects.get()
    subscriptions.confirm(subscriptions.confirm_token(subscriber))
    smtp.messages.clear()
    again = Client().post("/status/subscribe", {"email": "known@customer.example"})
    fresh = Client().post("/status/subscribe", {"email": "new@customer.example"})
    assert first.status_code == again.status_code == fresh.status_code == 202
    assert first.content == again.content == fresh.content
    assert [m["To"] for m in smtp.messages] == ["new@customer.example"]  # the confirmed address is not mailed again


def test_confirm_links_expire_and_cannot_be_forged(settings, smtp, jobs_now):
    Client().post("/status/subscribe", {"email": "late@customer.example"})
    subscriber = Subscriber.objects.get()
    forged = signing.TimestampSigner(salt="something else").sign(str(subscriber.id))
    assert Client().post(f"/status/confirm/{forged}").status_code == 400
    token = subscriptions.confirm_token(subscriber)
    settings.BASTION_STATUS_CONFIRM_SECONDS = -1  # already expired
    assert Client().post(f"/status/confirm/{token}").status_code == 400
    assert not Subscriber.objects.get().confirmed
    unsubscribe_forged = Client().post("/status/unsubscribe/" + str(subscriber.id) + ":AAAA",
                                       HTTP_ACCEPT="application/json")
    assert unsubscribe_forged.status_code == 400
    assert unsubscribe_forged.json()["error"]["code"] == "invalid_link"
    assert Subscriber.objects.exists()


def test_bad_addresses_get_a_400_with_the_error_shape(smtp, jobs_now):
    response = Client().post("/status/subscribe", {"email": "not an address"}, HTTP_ACCEPT="application/json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid" and error["fields"]["email"][0]["code"] == "invalid"
    page = Client().post("/status/subscribe", {"email": ""})
    assert page.status_code == 400 and b"Enter a valid email address." in page.content
    assert smtp.messages == [] and not Subscriber.objects.exists()


def test_the_form_is_rate_limited(smtp, jobs_now):
    client = Client()
    answers = [client.post("/status/subscribe", {"email": f"flood{n}@customer.example"}).status_code
               for n in range(12)]
    assert answers[:10] == [202] * 10 and answers[10:] == [429, 429]
    assert len(smtp.messages) == 10


def test_unconfirmed_addresses_are_deleted_once_their_link_expires(settings, smtp, jobs_now):
    import datetime

    from django.utils import timezone

    Client().post("/status/subscribe", {"email": "never@customer.example"})
    assert subscriptions.prune_unconfirmed() == 0
    later = timezone.now() + datetime.timedelta(seconds=settings.BASTION_STATUS_CONFIRM_SECONDS + 1)
    assert subscriptions.prune_unconfirmed(clock=lambda: later) == 1
    assert not Subscriber.objects.exists()
