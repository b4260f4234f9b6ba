"""What each emissions model stores, field by field, for the published data inventory."""

DATA_CLASSES = {
    "EmissionFactor": {
        "id": "operational", "organisation": "operational", "key": "confidential", "version": "operational",
        "name": "confidential", "category": "confidential", "unit": "operational", "kgco2e_per_unit": "confidential",
        "basis": "operational", "publisher": "confidential", "dataset": "confidential", "year": "operational",
        "licence": "confidential", "created_by": "personal", "created_at": "operational",
    },
    "Calculation": {
        "id": "operational", "organisation": "operational", "record": "operational", "factor_ref": "confidential",
        "factor_name": "confidential", "factor_value": "confidential", "factor_unit": "operational",
        "factor_publisher": "confidential", "factor_dataset": "confidential", "factor_year": "operational",
        "factor_licence": "confidential", "kgco2e": "confidential", "market_factor_ref": "confidential",
        "market_factor_value": "confidential", "market_factor_unit": "operational", "kgco2e_market": "confidential",
        "chosen_by": "personal", "computed_at": "operational",
    },
}
