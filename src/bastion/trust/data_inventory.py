"""What each trust model stores, field by field, for the published data inventory
(bastion.disclosures): personal (identifies or describes a person), confidential (a customer's
or the platform's business data), secret (grants access or decrypts: stored hashed, wrapped or
sealed) or operational (ids, times, states). tests/disclosures/test_data_inventory.py fails on a
field left out."""

DATA_CLASSES = {
    "CheckRun": {
        "id": "operational",
        "started_at": "operational",
        "finished_at": "operational",
        "digest": "operational",
        "key_id": "operational",
        "signature": "operational",
        "audit_seq": "operational",
    },
    "CheckResult": {
        "id": "operational",
        "run": "operational",
        "check_id": "operational",
        "version": "operational",
        "result": "operational",
        "details": "operational",
        "evidence": "confidential",  # what a check saw (counts, table names, file modes), not customer data
        "evidence_sha256": "operational",
        "checked_at": "operational",
    },
    "ControlNote": {
        "control_id": "operational",
        "note": "operational",
        "updated_at": "operational",
    },
}
