"""Report pages and CSV exports (included from ``tracker/urls.py``)."""

from django.urls import path

from . import views

app_name = "reports"

urlpatterns = [
    path("reports/", views.report_index, name="index"),
    path("reports/<slug:name>/", views.report, name="report"),
    path("exports/households.csv", views.export_households, name="export_households"),
    path("exports/persons.csv", views.export_persons, name="export_persons"),
    path("exports/payments.csv", views.export_payments, name="export_payments"),
]
