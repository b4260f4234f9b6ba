"""The data inventory: every field of every Bastion model is classified next to its model, and the
public table and JSON list them. Public pages: an outsider sees what everyone sees, and no
organisation's data is in them (only field names)."""

from __future__ import annotations

import importlib

import pytest

from bastion.disclosures import inventory


def test_every_field_of_every_bastion_model_is_classified():
    missing = inventory.unclassified()
    assert missing == [], (f"classify these fields in their app's data_inventory.py "
                           f"(one of {inventory.CLASSES}): {missing}")


def test_no_classification_names_a_model_or_field_that_does_not_exist():
    stale = []
    for config in {model._meta.app_config for model in inventory.bastion_models()}:
        models = {model.__name__: model for model in config.get_models()}
        for model_name, classes in inventory.declared(config.name).items():
            if model_name not in models:
                stale.append(f"{config.label}.{model_name}")
                continue
            fields = {field.name for field in models[model_name]._meta.concrete_fields}
            stale += [f"{config.label}.{model_name}.{name}" for name in set(classes) - fields]
    assert stale == []


def test_a_field_left_out_is_reported(monkeypatch):
    module = importlib.import_module("bastion.identity.data_inventory")
    user = {k: v for k, v in module.DATA_CLASSES["User"].items() if k != "email"}
    monkeypatch.setitem(module.DATA_CLASSES, "User", user)
    assert inventory.unclassified() == ["identity.User.email"]


@pytest.mark.django_db
def test_the_public_table_and_json(client, world):
    page = client.get("/privacy/data-inventory")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="identity-User"' in html and "Where data is stored" in html
    assert world.acme.organisation.name not in html and world.globex.organisation.name not in html

    document = client.get("/privacy/data-inventory.json").json()
    user = next(m for m in document["models"] if m["app"] == "identity" and m["model"] == "User")
    assert "email" in user["personal"] and "password" in user["secret"]
    credential = next(m for m in document["models"] if m["model"] == "Credential")
    assert "secret" in credential["secret"]
    assert {flow["store"] for flow in document["data_flows"]} >= {
        "database", "object storage", "KMS", "backups", "email", "logs"}
    assert world.globex.organisation.name not in str(document) and world.acme.organisation.slug not in str(document)


@pytest.mark.django_db
def test_the_declared_sub_processors_are_published(client, settings):
    from bastion.disclosures.subprocessors import parse
    settings.BASTION_SUBPROCESSORS = parse(
        '[{"name": "Mailer GmbH", "purpose": "email delivery", "location": "Germany", "safeguards": "DPA"}]')
    assert "Mailer GmbH" in client.get("/privacy/data-inventory").content.decode()
    assert client.get("/privacy/data-inventory.json").json()["subprocessors"] == [
        {"name": "Mailer GmbH", "purpose": "email delivery", "location": "Germany", "safeguards": "DPA"}]


def test_a_sub_processor_without_its_safeguards_is_refused():
    from bastion.config import ConfigError
    from bastion.disclosures.subprocessors import parse
    with pytest.raises(ConfigError, match="safeguards"):
        parse('[{"name": "X", "purpose": "y", "location": "z"}]')
    with pytest.raises(ConfigError, match="not JSON"):
        parse("[oops")
