"""rnnkit.serving: any saved model over HTTP (``rnnkit serve``), streamed, monitored.

- :mod:`.app`: the FastAPI app (:func:`create_app`, :class:`ServeSettings`);
- :mod:`.adapters`: each task's request -> Python API call -> response;
- :mod:`.schemas`: the pydantic requests and responses (the OpenAPI schemas);
- :mod:`.models`: loading, versioning, warming up and reloading served models;
- :mod:`.streams`: forecasting streams;
- :mod:`.metrics`: the Prometheus metrics.

FastAPI, uvicorn and prometheus-client are the ``serve`` extra (``pip install
"rnnkit[serve]"``); ``rnnkit.serving`` imports them.
"""

from rnnkit.serving.adapters import Limits
from rnnkit.serving.app import ServeSettings, create_app
from rnnkit.serving.models import ModelSource, ServedModel, load_model

__all__ = ["Limits", "ModelSource", "ServeSettings", "ServedModel", "create_app", "load_model"]
