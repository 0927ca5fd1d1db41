"""The tagger's graph: token feature ids in, emissions (and, without a CRF, tag ids) out,
equal to the torch network and SequenceTagger.predict; a CRF tagger's emissions decoded
outside with the exported transitions give predict's tags."""

import numpy as np
import pytest
import torch
from export_builders import TAGGERS, fitted_tagger, session

from rnnkit.errors import ConfigError
from rnnkit.export.tagging import IGNORE, tagger_graph


@pytest.mark.parametrize("name", list(TAGGERS))
def test_graph_equals_the_network_and_predict(name):
    task, sents = fitted_tagger(name)
    g, meta = tagger_graph(task)
    sess = session(g.model())
    names = [o.name for o in sess.get_outputs()]
    for start, n, extra in [(0, 1, 0), (2, 5, 2), (7, 11, 0)]:
        batch = sents[start : start + n]
        x, lens = task.features_.transform(batch)
        out = dict(zip(names, sess.run(None, {"ids": torch.nn.functional.pad(
            x, (0, 0, 0, extra)).numpy(), "lengths": lens.numpy()})))
        with torch.no_grad():
            want = task.model_(x, lens)  # (B, T, K)
        np.testing.assert_allclose(out["emissions"][:, : want.shape[1]], want.numpy(),
                                   atol=1e-5, rtol=0)
        if task.model_.crf is None:
            tags = [[meta["tags"][i] for i in row[row != IGNORE]] for row in out["tags"]]
        else:  # decoded outside the graph, with the transitions of the JSON
            crf = task.model_.crf
            assert np.allclose(meta["crf"]["transitions"], crf.transitions.detach().numpy())
            em = torch.from_numpy(out["emissions"])
            ids = crf.decode(em, lengths=lens, pad_value=IGNORE)
            tags = [[meta["tags"][i] for i in row.tolist() if i != IGNORE] for row in ids]
        assert tags == task.predict(batch)


def test_step_graph_emissions_equal_the_full_graph_token_by_token():
    task, sents = fitted_tagger("gru_uni_softmax")
    g, meta = tagger_graph(task, step=True)
    sess = session(g.model())
    x, lens = task.features_.transform(sents[:4])
    with torch.no_grad():
        want = task.model_(x, lens).numpy()
    state = {n: np.zeros((4, 2, 5), np.float32) for n in meta["state"]}
    for t in range(int(lens.min())):
        out = dict(zip([o.name for o in sess.get_outputs()],
                       sess.run(None, {"ids_t": x[:, t].numpy(), **state})))
        state = {n: out[f"{n}_out"] for n in meta["state"]}
        np.testing.assert_allclose(out["emissions"], want[:, t], atol=1e-5, rtol=0)


def test_step_graph_refuses_a_bidirectional_encoder():
    task, _ = fitted_tagger("lstm_bi_crf")
    with pytest.raises(ConfigError, match="bidirectional: expected False"):
        tagger_graph(task, step=True)
