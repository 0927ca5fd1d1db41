"""rnnkit.tasks.tagging.config: round trips through JSON and TOML, the tagger's early-stopping
default."""

from __future__ import annotations

import json

from rnnkit.tasks.encoder import EncoderSection
from rnnkit.tasks.tagging import TaggerConfig, TaggerModel


def test_config_round_trip():
    cfg = TaggerConfig.from_dict({"model": {"crf": False,
                                            "encoder": {"cell": "gru", "hidden_size": 5}}})
    assert cfg.model.encoder == EncoderSection(cell="gru", hidden_size=5) and not cfg.model.crf
    assert TaggerConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg
    assert TaggerConfig.from_toml_string(cfg.to_toml()) == cfg
    assert repr(TaggerModel(crf=False)) == "TaggerModel(crf=False)"
    # the tagger's early stopping waits 3 epochs unless told otherwise
    assert cfg.early_stopping.patience == 3
    assert TaggerConfig.from_dict({"early_stopping": {"monitor": "val_token_accuracy"}}
                                  ).early_stopping.patience == 3
