"""The root of the JSON APIs. Each app adds its router here."""

from ninja import NinjaAPI

from kynect.assessments.api import router as assessments_router
from kynect.assessments.api_khie import router as khie_router
from kynect.directory.hsds_api import router as hsds_router
from kynect.interop.fhir.api import router as fhir_router
from kynect.ondemand.api import router as ondemand_router
from kynect.referrals.api import router as referrals_router
from kynect.residents.api import router as residents_router

api = NinjaAPI(
    title="kynect platform API",
    version="1.0.0",
    description=(
        "JSON APIs of kynect resources (the directory and closed-loop referrals) and kynect On Demand, "
        "and the directory in FHIR R4B."
    ),
    urls_namespace="api",
)

api.add_router("/hsds/", hsds_router)
api.add_router("/ondemand/", ondemand_router)
api.add_router("/fhir/", fhir_router)
api.add_router("/fhir/", khie_router)
api.add_router("/referrals", referrals_router)
api.add_router("/residents", residents_router)
api.add_router("/assessments", assessments_router)
