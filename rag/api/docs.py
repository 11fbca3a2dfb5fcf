"""API docs that work offline: Swagger UI at /docs and ReDoc at /redoc, their scripts and styles
served by this app from the `fastapi-offline` package (FastAPI's defaults load them from a CDN, so
the pages are blank without internet), and models that no route returns as JSON (the chunks of a
stream) added to the OpenAPI components so that the docs can show them."""

from __future__ import annotations

from importlib.resources import files

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel

DOCS, REDOC, ASSETS = "/docs", "/redoc", "/docs-assets"
REF = "#/components/schemas/{model}"


def serve(app: FastAPI) -> set[str]:
    """Mount the docs pages and their assets; the paths that reveal the API (for the key guard)."""
    app.mount(ASSETS, StaticFiles(directory=str(files("fastapi_offline") / "static")), name="docs-assets")

    @app.get(DOCS, include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url=app.openapi_url, title=f"{app.title} API",
                                   swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
                                   swagger_css_url=f"{ASSETS}/swagger-ui.css",
                                   swagger_favicon_url=f"{ASSETS}/favicon.png")

    @app.get(REDOC, include_in_schema=False)
    def redoc() -> HTMLResponse:
        return get_redoc_html(openapi_url=app.openapi_url, title=f"{app.title} API",
                              redoc_js_url=f"{ASSETS}/redoc.standalone.js", redoc_favicon_url=f"{ASSETS}/favicon.png",
                              with_google_fonts=False)

    return {DOCS, REDOC, app.openapi_url}


def add_schemas(app: FastAPI, *models: type[BaseModel]) -> None:
    """Put `models` (and the models they use) into the OpenAPI components, where
    `{"$ref": "#/components/schemas/Name"}` finds them."""
    generate = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            schema = generate()
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            for model in models:
                found = model.model_json_schema(ref_template=REF)
                components.update(found.pop("$defs", {}))
                components[model.__name__] = found
        return app.openapi_schema

    app.openapi = openapi
