"""Emissions accounting: the emission-factor library (shipped published factors and each
organisation's custom ones, versioned), kgCO2e per record, totals, charts and exports."""
