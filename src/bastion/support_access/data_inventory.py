"""What each support_access model stores, field by field, for the published data inventory
(bastion.disclosures): personal (identifies or describes a person), confidential (a customer's
or the platform's business data), secret (grants access or decrypts: stored hashed, wrapped or
sealed) or operational (ids, times, states). tests/disclosures/test_data_inventory.py fails on a
field left out."""

DATA_CLASSES = {
    "AccessPolicy": {
        "id": "operational",
        "organisation": "operational",
        "approvers_required": "operational",
    },
    "AccessRequest": {
        "id": "operational",
        "organisation": "operational",
        "requested_by": "personal",
        "requested_by_label": "personal",
        "reason": "confidential",
        "reference": "confidential",
        "details": "personal",
        "mode": "operational",
        "minutes": "operational",
        "workspace_ids": "operational",
        "project_ids": "operational",
        "break_glass": "operational",
        "state": "operational",
        "created_at": "operational",
        "answer_by": "personal",
        "approvers_required": "operational",
        "approvals": "operational",
        "decided_by_label": "personal",
        "decided_at": "operational",
        "starts_at": "operational",
        "ends_at": "operational",
        "revoked_at": "operational",
        "revoked_by_label": "personal",
        "review_asked_at": "operational",
        "org_reviewed_at": "operational",
        "org_reviewed_by_label": "personal",
        "staff_reviewed_at": "operational",
        "staff_reviewed_by_label": "personal",
    },
}
