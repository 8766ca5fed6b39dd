"""The REST API, `/api/v1`. Each domain adds its router here."""

from ninja import NinjaAPI

api = NinjaAPI(title="CloseLoop API", version="1", urls_namespace="api")
