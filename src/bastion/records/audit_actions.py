"""The audit actions of records changes."""

from bastion.audit.registry import action

EMISSION_RECORD_CREATED = action("emission_record.created", "An emissions record was created")
EMISSION_RECORD_UPDATED = action("emission_record.updated", "An emissions record was updated")
EMISSION_RECORD_DELETED = action("emission_record.deleted", "An emissions record was deleted")
ENERGY_RECORD_CREATED = action("energy_record.created", "An energy record was created")
ENERGY_RECORD_UPDATED = action("energy_record.updated", "An energy record was updated")
ENERGY_RECORD_DELETED = action("energy_record.deleted", "An energy record was deleted")
SUPPLIER_CREATED = action("supplier.created", "A supplier was created")
SUPPLIER_UPDATED = action("supplier.updated", "A supplier was updated")
SUPPLIER_DELETED = action("supplier.deleted", "A supplier was deleted")
RECORDS_IMPORTED = action("records.imported", "Records were imported from a CSV file")
RECORDS_EXPORTED = action("records.exported", "Records were exported as a CSV file")
EVIDENCE_UPLOADED = action("evidence.uploaded", "An evidence file was uploaded")
EVIDENCE_DOWNLOADED = action("evidence.downloaded", "An evidence file was downloaded")
EVIDENCE_DELETED = action("evidence.deleted", "An evidence file was deleted")
