"""npnn.backends.mha: the fast-path switch, and its effect on TransformerEncoder's padded outputs (as in
PyTorch, where turning it off stops the nested-tensor path from zeroing padded positions)."""
import numpy as np
import pytest

import npnn
import npnn.backends.mha as mha_module

pytestmark = [pytest.mark.filterwarnings('ignore:enable_nested_tensor is True'),
              pytest.mark.filterwarnings('ignore:The PyTorch API of nested tensors')]


@pytest.fixture
def restore_fastpath():
    import importlib
    torch = importlib.import_module('torch') if importlib.util.find_spec('torch') else None
    old = npnn.backends.mha.get_fastpath_enabled()
    told = torch.backends.mha.get_fastpath_enabled() if torch is not None else None
    yield
    npnn.backends.mha.set_fastpath_enabled(old)
    if torch is not None:
        torch.backends.mha.set_fastpath_enabled(told)


def test_flag_default_and_toggle(restore_fastpath):
    assert npnn.backends.mha is mha_module
    assert 'mha' in npnn.backends.__all__
    assert npnn.backends.mha.get_fastpath_enabled() is True
    npnn.backends.mha.set_fastpath_enabled(False)
    assert npnn.backends.mha.get_fastpath_enabled() is False
    npnn.backends.mha.set_fastpath_enabled(True)
    assert mha_module.get_fastpath_enabled() is True


def test_flag_matches_torch(restore_fastpath):
    torch = pytest.importorskip('torch')
    assert npnn.backends.mha.get_fastpath_enabled() == torch.backends.mha.get_fastpath_enabled()
    for v in (False, True):
        npnn.backends.mha.set_fastpath_enabled(v)
        torch.backends.mha.set_fastpath_enabled(v)
        assert npnn.backends.mha.get_fastpath_enabled() == torch.backends.mha.get_fastpath_enabled()


def _encoders(torch):
    torch.manual_seed(5)
    kw = dict(dim_feedforward=24, dropout=0.1, batch_first=True)
    tmod = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(16, 4, **kw), 2, enable_nested_tensor=True)
    nmod = npnn.nn.TransformerEncoder(npnn.nn.TransformerEncoderLayer(16, 4, **kw), 2, enable_nested_tensor=True)
    nmod.load_state_dict({k: npnn.tensor(v.detach().numpy()) for k, v in tmod.state_dict().items()})
    return tmod.eval(), nmod.eval()


@pytest.mark.parametrize('enabled', [True, False])
def test_encoder_padding_follows_the_flag(enabled, restore_fastpath):
    torch = pytest.importorskip('torch')
    tmod, nmod = _encoders(torch)
    x = np.random.RandomState(0).randn(2, 4, 16).astype(np.float32)
    pad = np.array([[0, 0, 1, 1], [0, 0, 0, 1]], dtype=bool)
    npnn.backends.mha.set_fastpath_enabled(enabled)
    torch.backends.mha.set_fastpath_enabled(enabled)
    with torch.no_grad(), npnn.no_grad():
        to = tmod(torch.tensor(x), src_key_padding_mask=torch.tensor(pad)).numpy()
        no = nmod(npnn.tensor(x), src_key_padding_mask=npnn.tensor(pad)).numpy()
    np.testing.assert_allclose(no, to, atol=2e-5, rtol=1e-4)
    if enabled:
        assert (no[pad] == 0).all()
    else:
        assert np.abs(no[pad]).min() > 1e-4  # padded positions are computed, not zeroed
