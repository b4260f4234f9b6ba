"""What each siem model stores, field by field, for the published data inventory
(bastion.disclosures): personal (identifies or describes a person), confidential (a customer's
or the platform's business data), secret (grants access or decrypts: stored hashed, wrapped or
sealed) or operational (ids, times, states). tests/disclosures/test_data_inventory.py fails on a
field left out."""

DATA_CLASSES = {
    "SiemDestination": {
        "id": "operational",
        "organisation": "operational",
        "name": "confidential",
        "kind": "operational",
        "url": "confidential",
        "bucket": "confidential",
        "prefix": "confidential",
        "region": "operational",
        "access_key_id": "confidential",
        "window_seconds": "operational",
        "ca_certificate": "operational",
        "credential": "secret",  # the vaulted signing key, S3 secret or client key: a reference to the vault
        "streams": "operational",
        "enabled": "operational",
        "audit_cursor": "operational",
        "access_cursor": "operational",
        "attempts": "operational",
        "next_attempt_at": "operational",
        "last_error": "operational",
        "last_delivered_at": "operational",
        "created_at": "operational",
    },
    "DeadLetter": {
        "id": "operational",
        "organisation": "operational",
        "destination": "operational",
        "stream": "operational",
        "first_seq": "operational",
        "last_seq": "operational",
        "events": "confidential",  # the undelivered events themselves (people by pseudonym only)
        "error": "operational",
        "created_at": "operational",
        "requeued_at": "operational",
    },
}
