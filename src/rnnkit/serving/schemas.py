"""The HTTP requests and responses of ``rnnkit serve``, one pair per task, in the task's own
terms (rows, texts, tokens, prompts, sources), never tensors.

Each request is a pydantic model that refuses unknown fields, so a misspelt field is a 422
naming it rather than a silently ignored option. The server publishes these models in its
OpenAPI document (``/openapi.json``, browsable at ``/docs``): every served model's predict
route declares its task's request and response.

Example::

    >>> ForecastRequest(data=[{"time": "2024-01-01", "load": 1.0}], horizon=3).horizon
    3
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "ClassifyRequest",
    "ClassifyResponse",
    "FeedbackRequest",
    "ForecastRequest",
    "ForecastResponse",
    "GenerateRequest",
    "GenerateResponse",
    "ModelInfo",
    "ModelSummary",
    "Prediction",
    "StreamOpenRequest",
    "StreamResponse",
    "TagRequest",
    "TagResponse",
    "TranslateRequest",
    "TranslateResponse",
]

#: One row of a forecasting input, as in the CSV ``rnnkit predict --input`` reads: the time
#: column, the targets (null for the rows of known-future covariates after the history) and
#: the covariates.
Row = dict[str, str | float | int | bool | None]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ModelInfo(BaseModel):
    """Which model answered: its name and version (a digest of its bundle's manifest)."""

    name: str
    version: str


class ModelSummary(BaseModel):
    """One served model, as ``GET /v1/models`` lists it."""

    name: str
    version: str
    task: str
    runtime: str
    path: str
    loaded_at: str
    load_seconds: float
    input: dict[str, Any]
    output: dict[str, Any]


# ----------------------------------------------------------------------------- forecasting
class ForecastRequest(_Request):
    """A series' rows (``data``), or a batch of series (``series``), and the steps to
    forecast (default: the model's horizon)."""

    data: list[Row] | None = Field(None, description="the rows of one series, oldest first")
    series: list[list[Row]] | None = Field(None, description="a batch: the rows of each series")
    horizon: int | None = Field(None, ge=1, description="steps ahead (default: the model's)")

    @model_validator(mode="after")
    def _one_input(self) -> ForecastRequest:
        if (self.data is None) == (self.series is None):
            got = "neither" if self.data is None else "both"
            raise ValueError("expected exactly one of 'data' (one series) or 'series' (a "
                             f"batch), got {got}")
        return self


class ForecastResponse(BaseModel):
    """The forecast rows (time stamps and one column per target, in original units) of
    ``data``, or one list of rows per series of ``series``."""

    forecast: list[dict[str, Any]] | None = None
    forecasts: list[list[dict[str, Any]]] | None = None
    model: ModelInfo
    prediction_id: int | None = Field(None, description="its id in the prediction log "
                                      "(send it back with the actual values: feedback)")


class StreamOpenRequest(_Request):
    """Open a forecasting stream: optional first rows and the steps of each forecast."""

    data: list[Row] = Field(default_factory=list, description="the history so far (may be empty)")
    horizon: int | None = Field(None, ge=1)


class StreamObserveRequest(_Request):
    """The next observation(s) of a stream, and for a model with known-future covariates
    the rows of the steps to forecast (their covariates; targets left out)."""

    data: list[Row] = Field(min_length=1)
    future: list[Row] = Field(default_factory=list)


class StreamResponse(BaseModel):
    """A stream's id and, once it holds ``look_back`` rows, the forecast from its history."""

    stream: str
    rows: int
    needed: int = Field(description="rows still missing before the first forecast")
    forecast: list[dict[str, Any]] | None = None
    model: ModelInfo


# -------------------------------------------------------------------------- classification
class ClassifyRequest(_Request):
    """Texts, or numeric series (each a list of steps; a step is a number or a list of
    feature values)."""

    texts: list[str] | None = None
    series: list[list[float] | list[list[float]]] | None = None

    @model_validator(mode="after")
    def _one_input(self) -> ClassifyRequest:
        if (self.texts is None) == (self.series is None):
            got = "neither" if self.texts is None else "both"
            raise ValueError(f"expected exactly one of 'texts' or 'series', got {got}")
        return self


class Prediction(BaseModel):
    """One input's label and the probability of every class."""

    label: Any
    probabilities: dict[str, float]


class ClassifyResponse(BaseModel):
    predictions: list[Prediction]
    model: ModelInfo
    prediction_id: int | None = None


# --------------------------------------------------------------------------------- tagging
class TagRequest(_Request):
    """Sentences as token lists."""

    sentences: list[list[str]] = Field(min_length=1)


class TagResponse(BaseModel):
    tags: list[list[str]]
    model: ModelInfo
    prediction_id: int | None = None


# ---------------------------------------------------------------------------- generation
class GenerateRequest(_Request):
    """Prompts and sampling settings; unset settings take the model's ``[generation]``
    defaults, and prompt i is sampled with seed ``seed + i`` (same seed, same text)."""

    prompts: list[str] = Field(min_length=1)
    max_tokens: int | None = Field(None, ge=1)
    temperature: float | None = Field(None, gt=0)
    top_k: int | None = Field(None, ge=1)
    top_p: float | None = Field(None, gt=0, le=1)
    greedy: bool | None = None
    seed: int | None = Field(None, ge=0)


class GenerateResponse(BaseModel):
    texts: list[str]
    model: ModelInfo
    prediction_id: int | None = None


# ------------------------------------------------------------------------------- seq2seq
class TranslateRequest(_Request):
    """Source texts (cut into tokens as the model's training files were) and the beam size
    (default: the model's ``decoding.beam_width``; 1 decodes greedily)."""

    sources: list[str] = Field(min_length=1)
    beam_size: int | None = Field(None, ge=1, le=64)


class TranslateResponse(BaseModel):
    targets: list[str]
    model: ModelInfo
    prediction_id: int | None = None


# -------------------------------------------------------------------------------- feedback
class FeedbackRequest(_Request):
    """The actual values of a logged prediction (its ``prediction_id`` came with the answer):
    forecasting: rows with the time column and the targets; classification: one label per
    input; tagging: one tag list per sentence."""

    prediction_id: int = Field(ge=1)
    actual: list[Any] = Field(min_length=1)
