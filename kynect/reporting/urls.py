from django.urls import path, register_converter

from kynect.reporting import views


class MonthConverter:
    regex = r"[0-9]{4}-[0-9]{2}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(MonthConverter, "month")

app_name = "reporting"
urlpatterns = [
    path("metrics/", views.metrics, name="metrics"),
    path("metrics/figures.csv", views.metrics_csv, name="metrics_csv"),
    path("metrics/incentive/", views.incentive_reports, name="incentive"),
    path("metrics/incentive/<month:month>/", views.incentive_report, name="incentive_report"),
    path("metrics/incentive/<month:month>.csv", views.incentive_report_csv, name="incentive_report_csv"),
]
