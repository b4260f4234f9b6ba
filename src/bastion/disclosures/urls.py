from django.urls import path

from bastion.disclosures import views

urlpatterns = [
    path("privacy/data-inventory", views.data_inventory, name="data_inventory"),
    path("privacy/data-inventory.json", views.data_inventory_json, name="data_inventory_json"),
]
