"""The import target of uvicorn's workers: settings come from the environment."""

from gateway.app import create_app
from gateway.settings import load

app = create_app(load())
