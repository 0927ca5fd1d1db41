"""The request models: exactly one input, no unknown field, ranges checked."""

import pytest
from pydantic import ValidationError

from rnnkit.serving.schemas import (
    ClassifyRequest,
    ForecastRequest,
    GenerateRequest,
    StreamObserveRequest,
    TagRequest,
    TranslateRequest,
)


def test_forecast_takes_one_series_or_a_batch():
    assert ForecastRequest(data=[{"t": 1, "y": 2.0}]).horizon is None
    assert len(ForecastRequest(series=[[{"y": 1.0}], [{"y": None}]]).series) == 2
    for bad in ({}, {"data": [], "series": []}):
        with pytest.raises(ValidationError, match="exactly one of 'data'"):
            ForecastRequest(**bad)


@pytest.mark.parametrize(("model", "body", "field"), [
    (ForecastRequest, {"data": [{}], "horizon": 0}, "horizon"),
    (ForecastRequest, {"data": [{}], "steps": 3}, "steps"),
    (ClassifyRequest, {"texts": ["a"], "series": [[1.0]]}, None),
    (TagRequest, {"sentences": []}, "sentences"),
    (GenerateRequest, {"prompts": ["a"], "temperature": 0}, "temperature"),
    (GenerateRequest, {"prompts": ["a"], "top_p": 1.5}, "top_p"),
    (TranslateRequest, {"sources": ["a"], "beam_size": 65}, "beam_size"),
    (StreamObserveRequest, {"data": []}, "data"),
])
def test_invalid_requests_name_the_field(model, body, field):
    with pytest.raises(ValidationError) as info:
        model(**body)
    if field is not None:
        assert info.value.errors()[0]["loc"][0] == field


def test_series_may_be_univariate_or_multivariate():
    assert ClassifyRequest(series=[[1.0, 2.0], [[1.0, 2.0], [3.0, 4.0]]]).series[1][1] == [3, 4]


def test_one_input_errors_say_what_came():
    with pytest.raises(ValidationError, match="got neither"):
        ForecastRequest()
    with pytest.raises(ValidationError, match="got both"):
        ClassifyRequest(texts=["a"], series=[[1.0]])
