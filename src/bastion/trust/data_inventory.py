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
    "NdaDocument": {
        "id": "operational",
        "title": "confidential",
        "kind": "operational",
        "approval": "operational",
        "access_seconds": "operational",
        "filename": "confidential",
        "content_type": "operational",
        "size": "operational",
        "sha256": "operational",
        "artifact_id": "operational",
        "uploaded_by": "operational",
        "uploaded_at": "operational",
        "withdrawn_at": "operational",
    },
    "DocumentRequest": {
        "id": "operational",
        "document": "operational",
        "sealed_requester": "secret",  # the person's name, email and company, sealed
        "nda_sha256": "operational",
        "accepted_at": "operational",
        "state": "operational",
        "decided_by": "operational",
        "decided_at": "operational",
        "link_digest": "secret",
        "expires_at": "operational",
        "downloads": "operational",
    },
}
