"""Variable-length sequence classification: a custom map-style Dataset of (sequence, label) pairs, a
DataLoader whose collate_fn pads with pad_sequence and returns the lengths, pack_padded_sequence
(enforce_sorted=False) into a bidirectional LSTM, and the final forward/backward hidden states into a
classifier. Same weights and batches as PyTorch give the same losses; shuffling with a seeded
torch.Generator is reproducible within each library."""
import numpy as np
import pytest

from .helpers import get


def _raw():
    rng = np.random.RandomState(0)
    seqs, labels = [], []
    for _ in range(40):
        n = rng.randint(2, 9)
        x = rng.randn(n, 3).astype(np.float32)
        seqs.append(x)
        labels.append(int(x[:, 0].sum() > 0))
    return seqs, labels


def make_loader(torch, shuffle=False, generator=None):
    seqs, labels = _raw()
    rnn_utils = torch.nn.utils.rnn

    class SeqDataset(torch.utils.data.Dataset):
        def __init__(self, seqs, labels):
            self.seqs = [torch.from_numpy(s) for s in seqs]
            self.labels = labels

        def __len__(self):
            return len(self.seqs)

        def __getitem__(self, i):
            return self.seqs[i], self.labels[i]

    def collate(batch):
        xs, ys = zip(*batch)
        lengths = torch.tensor([len(x) for x in xs], dtype=torch.long)
        return rnn_utils.pad_sequence(list(xs), batch_first=True), lengths, torch.tensor(ys)

    return torch.utils.data.DataLoader(SeqDataset(seqs, labels), batch_size=8, shuffle=shuffle,
                                       collate_fn=collate, generator=generator)


def run(torch, state, epochs=3):
    nn = torch.nn
    rnn_utils = torch.nn.utils.rnn

    class Classifier(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(3, 10, batch_first=True, bidirectional=True)
            self.fc = nn.Linear(20, 2)

        def forward(self, x, lengths):
            packed = rnn_utils.pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
            out, (h, c) = self.lstm(packed)
            feats = torch.cat([h[-2], h[-1]], dim=1)
            padded, out_lens = rnn_utils.pad_packed_sequence(out, batch_first=True)
            return self.fc(feats), padded, out_lens

    torch.manual_seed(0)
    model = Classifier()
    if state is not None:
        model.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in state.items()})
    init = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
    opt = torch.optim.Adam(model.parameters(), lr=0.02)
    loader = make_loader(torch)
    losses, checks = [], []
    for _ in range(epochs):
        for x, lengths, y in loader:
            logits, padded, out_lens = model(x, lengths)
            loss = nn.functional.cross_entropy(logits, y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
            # outputs past each sequence's length are zero-padded; lengths come back unchanged
            mask = torch.arange(padded.size(1))[None, :] >= out_lens[:, None]
            checks.append((padded[mask].abs().sum().item() == 0, out_lens.tolist() == lengths.tolist(),
                           padded.shape[1] == int(lengths.max())))
    final = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
    return init, losses, final, checks


def test_padded_lstm_matches_torch():
    import npnn
    init, ref_losses, ref_final, _ = run(get('torch'), None)
    _, losses, final, checks = run(npnn, init)
    np.testing.assert_allclose(losses, ref_losses, rtol=2e-4, atol=2e-5)
    for k in ref_final:
        np.testing.assert_allclose(final[k], ref_final[k], rtol=2e-3, atol=2e-4, err_msg=k)
    assert all(all(c) for c in checks)


@pytest.mark.parametrize('lib', ['npnn', 'torch'])
def test_seeded_shuffle_is_reproducible(lib):
    torch = get(lib)

    def order(seed):
        loader = make_loader(torch, shuffle=True, generator=torch.Generator().manual_seed(seed))
        return [y.tolist() + lengths.tolist() for _, lengths, y in loader]
    assert order(3) == order(3)
    assert order(3) != order(4)
    # every example appears exactly once per epoch
    total = sum(len(b) // 2 for b in order(3))
    assert total == 40
