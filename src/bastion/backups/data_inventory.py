"""What each backups model stores, field by field, for the published data inventory
(bastion.disclosures): personal (identifies or describes a person), confidential (a customer's
or the platform's business data), secret (grants access or decrypts: stored hashed, wrapped or
sealed) or operational (ids, times, states). tests/disclosures/test_data_inventory.py fails on a
field left out."""

DATA_CLASSES = {
    "Backup": {
        "id": "operational",
        "engine": "operational",
        "type": "operational",
        "repository": "operational",
        "label": "operational",
        "started_at": "operational",
        "finished_at": "operational",
        "restore_point": "operational",
        "size": "operational",
        "status": "operational",
        "error": "confidential",
        "proven_by_drill": "operational",
    },
    "Drill": {
        "id": "operational",
        "kind": "operational",
        "backup": "operational",
        "started_at": "operational",
        "finished_at": "operational",
        "ok": "operational",
        "target_time": "operational",
        "restored_time": "operational",
        "rto_seconds": "operational",
        "rpo_seconds": "operational",
        "events_lost": "operational",
        "tables_checked": "operational",
        "message": "confidential",
    },
}
