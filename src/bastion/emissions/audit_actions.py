"""The audit actions of emissions accounting."""

from bastion.audit.registry import action

FACTOR_CREATED = action("emission_factor.created", "A custom emission factor (or a new version of one) was created")
FACTOR_ASSIGNED = action("emission_record.factor_assigned", "An emission factor was chosen for a record and its kgCO2e computed")
FACTOR_CLEARED = action("emission_record.factor_cleared", "The emission factor of a record was removed")
EMISSIONS_EXPORTED = action("emissions.exported", "Emissions records or totals were exported (CSV or XLSX)")
