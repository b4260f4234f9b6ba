"""What each disclosures model stores, field by field (see bastion.disclosures.inventory)."""

DATA_CLASSES = {
    "PublishedSubprocessors": {
        "id": "operational",
        "digest": "operational",
        "entries": "operational",
        "published_at": "operational",
    },
}
