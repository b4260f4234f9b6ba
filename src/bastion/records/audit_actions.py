"""The audit actions of records changes."""

from bastion.audit.registry import register

register({
    **{f"{kind}.{verb}": f"{label} {verb}" for kind, label in (
        ("emission_record", "An emissions record was"),
        ("energy_record", "An energy record was"),
        ("supplier", "A supplier was"),
    ) for verb in ("created", "updated", "deleted")},
    "records.imported": "Records were imported from a CSV file",
    "records.exported": "Records were exported as a CSV file",
    "evidence.uploaded": "An evidence file was uploaded",
    "evidence.downloaded": "An evidence file was downloaded",
    "evidence.deleted": "An evidence file was deleted",
})
