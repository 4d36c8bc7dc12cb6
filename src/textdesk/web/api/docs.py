"""The REST API's documentation page, served with the package's own Swagger UI.

FastAPI's default page loads Swagger UI from a CDN, so `/api/docs` is blank on a
machine without internet (an air-gapped desk, a laptop on a train).  The same page
here points at the copy vendored from npm under ``static/vendor/swagger-ui-dist``.
"""

from __future__ import annotations

from fastapi.openapi.docs import get_swagger_ui_html
from starlette.requests import Request
from starlette.responses import HTMLResponse

SWAGGER_UI = "/static/vendor/swagger-ui-dist"
OPENAPI_URL = "/api/v1/openapi.json"


async def api_docs(request: Request) -> HTMLResponse:
    """Swagger UI for the OpenAPI document, every asset from this server."""
    return get_swagger_ui_html(
        openapi_url=OPENAPI_URL,
        title="textdesk API",
        swagger_js_url=f"{SWAGGER_UI}/swagger-ui-bundle.js",
        swagger_css_url=f"{SWAGGER_UI}/swagger-ui.css",
        swagger_favicon_url=f"{SWAGGER_UI}/favicon-32x32.png",
        # Swagger UI would otherwise ask validator.swagger.io about a public spec.
        swagger_ui_parameters={"validatorUrl": None},
    )
