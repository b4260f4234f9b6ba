"""``/status/feed.atom``: the incidents as an Atom feed (Django's syndication framework)."""

from __future__ import annotations

from django.contrib.syndication.views import Feed
from django.utils.feedgenerator import Atom1Feed

from bastion.operations import summary


class IncidentFeed(Feed):
    feed_type = Atom1Feed
    title = "Bastion status: incidents"
    subtitle = "Incidents and their updates, newest first"
    link = "/status"
    public = True  # the access declaration (tests/test_declared_access.py)

    def items(self):
        return summary.recent_incidents(days=365)

    def item_title(self, item):
        return f"{item.title} ({item.get_status_display()})"

    def item_description(self, item):
        return "\n\n".join(f"{u.created_at:%Y-%m-%d %H:%M} UTC — {u.get_status_display()}: {u.body}"
                           for u in item.updates.all())

    def item_link(self, item):
        return f"/status/incidents/{item.id}"

    def item_guid(self, item):
        return f"urn:uuid:{item.id}"

    item_guid_is_permalink = False

    def item_pubdate(self, item):
        return item.created_at

    def item_updateddate(self, item):
        return item.updated_at
