"""FastAPI dependencies: the container, the API token, the record and topic use cases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from textdesk.bootstrap import Container
from textdesk.records.incidents import Incidents
from textdesk.topics.assets import TopicAssets
from textdesk.topics.library import TopicLibrary

_bearer = HTTPBearer(auto_error=False, description="An API token from `textdesk api-tokens create`")


def get_container(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


ContainerDep = Annotated[Container, Depends(get_container)]


async def api_client(
    container: ContainerDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    """The name of the calling API token; 401 without a valid one."""
    if credentials is not None:
        name = await container.admin.api_tokens.check(credentials.credentials)
        if name is not None:
            return name
    raise HTTPException(
        status.HTTP_401_UNAUTHORIZED,
        "a valid API token is required (Authorization: Bearer tdk_…)",
        headers={"WWW-Authenticate": "Bearer"},
    )


ApiClient = Annotated[str, Depends(api_client)]


# ------------------------------------------------------------------------------ records


def get_incidents(container: ContainerDep) -> Incidents:
    return container.incidents


# The record use cases of the REST API; each opens its own transaction.
IncidentsDep = Annotated[Incidents, Depends(get_incidents)]


# ------------------------------------------------------------------------------- topics


def get_topics(container: ContainerDep) -> TopicLibrary:
    return container.topic_library


# The topic library: drafts, publishing, versions; each call one transaction.
TopicsDep = Annotated[TopicLibrary, Depends(get_topics)]


def get_topic_assets(container: ContainerDep) -> TopicAssets:
    return container.topic_assets


# A topic's images and scripts.
TopicAssetsDep = Annotated[TopicAssets, Depends(get_topic_assets)]
