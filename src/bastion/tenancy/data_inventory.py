"""What each tenancy model stores, field by field, for the published data inventory
(bastion.disclosures): personal (identifies or describes a person), confidential (a customer's
or the platform's business data), secret (grants access or decrypts: stored hashed, wrapped or
sealed) or operational (ids, times, states). tests/disclosures/test_data_inventory.py fails on a
field left out."""

DATA_CLASSES = {
    "Organisation": {
        "id": "operational",
        "slug": "confidential",
        "name": "confidential",
        "created_at": "operational",
        "mfa_required": "operational",
        "access_version": "operational",  # a counter the authorization cache checks
    },
    "Workspace": {
        "id": "operational",
        "organisation": "operational",
        "name": "confidential",
        "description": "confidential",
        "created_at": "operational",
    },
    "Project": {
        "id": "operational",
        "organisation": "operational",
        "workspace": "operational",
        "name": "confidential",
        "description": "confidential",
        "created_at": "operational",
    },
    "Role": {
        "id": "operational",
        "organisation": "operational",
        "name": "confidential",
        "description": "confidential",
        "permissions": "confidential",
        "created_at": "operational",
    },
    "Membership": {
        "id": "operational",
        "organisation": "operational",
        "user": "personal",
        "workspace": "operational",
        "project": "operational",
        "builtin_role": "operational",
        "custom_role": "operational",
        "created_at": "operational",
    },
    "AuditWitness": {
        "id": "operational",
        "organisation": "operational",
        "kind": "operational",
        "url": "confidential",
        "email": "personal",
        "secret": "secret",
        "delivered_size": "operational",
        "attempts": "operational",
        "next_attempt_at": "operational",
        "last_error": "confidential",
        "created_by_label": "personal",
        "created_at": "operational",
    },
}
