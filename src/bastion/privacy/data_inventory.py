"""What each privacy model stores, field by field, for the published data inventory
(bastion.disclosures): personal (identifies or describes a person), confidential (a customer's
or the platform's business data), secret (grants access or decrypts: stored hashed, wrapped or
sealed) or operational (ids, times, states). tests/disclosures/test_data_inventory.py fails on a
field left out."""

DATA_CLASSES = {
    "PersonalExport": {
        "id": "operational",
        "user": "personal",
        "state": "operational",
        "progress": "operational",
        "artifact_id": "operational",
        "created_at": "operational",
        "ready_at": "operational",
    },
    "DeletionRequest": {
        "id": "operational",
        "user": "personal",
        "requested_at": "operational",
        "due_at": "operational",
        "cancelled_at": "operational",
        "erased_at": "operational",
        "erasure": "operational",
    },
    "SubjectRequest": {
        "id": "operational",
        "kind": "operational",
        "requester_email": "personal",
        "user": "personal",
        "received_at": "operational",
        "deadline": "operational",
        "verification": "operational",
        "state": "operational",
        "notes": "confidential",
        "recorded_by_id": "personal",
    },
    "RetentionPolicy": {
        "id": "operational",
        "organisation": "operational",
        "data_class": "operational",
        "days": "operational",
        "changed_at": "operational",
    },
    "LegalHold": {
        "id": "operational",
        "organisation": "operational",
        "workspace": "operational",
        "project": "operational",
        "reason": "confidential",
        "placed_by_label": "personal",
        "placed_at": "operational",
        "released_at": "operational",
    },
    "OrganisationDeletion": {
        "id": "operational",
        "organisation": "operational",
        "requested_by_label": "personal",
        "requested_at": "operational",
        "due_at": "operational",
        "cancelled_at": "operational",
    },
    "LedgerApplied": {
        "seq": "operational",
        "entry_hash": "operational",
        "applied_at": "operational",
    },
}
