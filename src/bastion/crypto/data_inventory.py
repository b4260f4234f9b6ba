"""What each crypto model stores, field by field, for the published data inventory
(bastion.disclosures): personal (identifies or describes a person), confidential (a customer's
or the platform's business data), secret (grants access or decrypts: stored hashed, wrapped or
sealed) or operational (ids, times, states). tests/disclosures/test_data_inventory.py fails on a
field left out."""

DATA_CLASSES = {
    "DataKey": {
        "id": "operational",
        "organisation_id": "operational",
        "version": "operational",
        "provider": "operational",
        "kek_id": "operational",
        "wrapped": "secret",
        "created_at": "operational",
        "retired_at": "operational",
    },
    "IndexKey": {
        "organisation_id": "operational",
        "provider": "operational",
        "kek_id": "operational",
        "wrapped": "secret",
        "created_at": "operational",
    },
    "ApiKey": {
        "id": "operational",
        "organisation_id": "operational",
        "public_id": "operational",
        "secret_hash": "secret",
        "name": "confidential",
        "scopes": "operational",
        "created_by_id": "personal",
        "created_by_label": "personal",
        "created_at": "operational",
        "expires_at": "operational",
        "last_used_at": "operational",
        "last_used_ip": "personal",
        "revoked_at": "operational",
    },
    "Credential": {
        "id": "operational",
        "organisation_id": "operational",
        "name": "confidential",
        "service": "confidential",
        "kind": "operational",
        "secret": "secret",
        "refresh_token": "secret",
        "preview": "confidential",
        "expires_at": "operational",
        "version": "operational",
        "created_by_label": "personal",
        "created_at": "operational",
        "rotated_at": "operational",
        "last_used_at": "operational",
        "last_used_by": "personal",
    },
    "Artifact": {
        "id": "operational",
        "organisation_id": "operational",
        "purpose": "operational",
        "storage_key": "operational",
        "file_key": "secret",
        "size": "operational",
        "sha256": "operational",
        "ephemeral": "operational",
        "expires_at": "operational",
        "created_at": "operational",
    },
}
