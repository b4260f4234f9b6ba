"""What each hardening model stores, field by field, for the published data inventory
(bastion.disclosures): personal (identifies or describes a person), confidential (a customer's
or the platform's business data), secret (grants access or decrypts: stored hashed, wrapped or
sealed) or operational (ids, times, states). tests/disclosures/test_data_inventory.py fails on a
field left out."""

DATA_CLASSES = {
    "CspViolation": {
        "id": "operational",
        "received_at": "operational",
        "document_uri": "confidential",
        "violated_directive": "confidential",
        "blocked_uri": "confidential",
        "source_file": "confidential",
        "line_number": "operational",
        "sample": "confidential",
        "user_agent": "personal",
    },
    "RateCounter": {
        "key": "operational",  # the rule, a SHA-256 digest of the client's key, the window's end
        "count": "operational",
        "expires": "operational",
    },
}
