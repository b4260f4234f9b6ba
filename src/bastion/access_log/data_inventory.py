"""What each access_log model stores, field by field, for the published data inventory
(bastion.disclosures): personal (identifies or describes a person), confidential (a customer's
or the platform's business data), secret (grants access or decrypts: stored hashed, wrapped or
sealed) or operational (ids, times, states). tests/disclosures/test_data_inventory.py fails on a
field left out."""

DATA_CLASSES = {
    "AccessLogSettings": {
        "id": "operational",
        "organisation": "operational",
        "record_views": "operational",
        "evidence_downloads": "operational",
        "exports": "operational",
        "credential_previews": "operational",
        "updated_at": "operational",
    },
    "AccessLogHead": {
        "id": "operational",
        "organisation": "operational",
        "seq": "operational",
        "hash": "operational",
        "prev_hash": "operational",
    },
    "AccessBatch": {
        "id": "operational",
        "organisation": "operational",
        "seq": "operational",
        "occurred_at": "operational",
        "kind": "operational",
        "actor_type": "operational",
        "actor_id": "personal",
        "actor_label": "personal",
        "resources": "confidential",
        "resource_keys": "operational",
        "request_id": "operational",
        "grant_id": "operational",
        "prev_hash": "operational",
        "hash": "operational",
    },
}
