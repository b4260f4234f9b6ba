from django.db import models


class PublishedSubprocessors(models.Model):
    """The sub-processor list as last announced: a change of ``BASTION_SUBPROCESSORS`` is noticed
    by comparing with the newest row, and announced to status subscribers once."""

    digest = models.CharField(max_length=64)
    entries = models.JSONField()
    published_at = models.DateTimeField(auto_now_add=True)
