"""Table I baselines of RLA (PCA, AE, SRC, SSDA) on random low-rank 'faces'."""

import pytest
import torch

from occface.papers.rla.baselines import (SSDA, Autoencoder, PCARestorer, SRCRestorer, kl_sparsity,
                                      mse_per_image)

torch.set_num_threads(1)


def _faces(n: int = 60, side: int = 8, rank: int = 3, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    basis = torch.rand(rank, side * side, generator=g)
    coef = torch.rand(n, rank, generator=g)
    flat = (coef @ basis) / rank
    return flat.view(n, 1, side, side).repeat(1, 3, 1, 1)


def _occlude(x: torch.Tensor) -> torch.Tensor:
    y = x.clone()
    y[..., :3, :3] = 1.0
    return y


def test_pca_reconstructs_in_span_faces_exactly_and_reduces_occlusion_error():
    train, test = _faces(60), _faces(10, seed=0)[:10]
    pca = PCARestorer(components=3).fit(train)
    assert torch.allclose(pca.restore(test), test, atol=1e-4)
    occ = _occlude(test)
    assert mse_per_image(pca.restore(occ), test).mean() < mse_per_image(occ, test).mean()


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_src_codes_are_sparse_and_reconstruct_dictionary_atoms():
    train = _faces(40)
    src = SRCRestorer(atoms=40, nonzero=3).fit(train)
    codes = src.codes(train[:5])
    assert ((abs(codes) > 1e-9).sum(0) <= 3).all()
    assert mse_per_image(src.restore(train[:5]), train[:5]).max() < 1e-4
    assert src.restore(train[:5]).shape == (5, 3, 8, 8)


def test_autoencoder_and_ssda_learn_to_remove_a_fixed_occluder():
    torch.manual_seed(0)
    clean = _faces(64)
    occ = _occlude(clean)
    x_occ, x = occ[:, 0].flatten(1), clean[:, 0].flatten(1)
    ae = Autoencoder(64, 32, layers=2)
    ssda = SSDA(64, 32, layers=2)
    before_ae = mse_per_image(ae.restore(occ), clean).mean()
    opt = torch.optim.Adam(ae.parameters(), lr=3e-3)
    for _ in range(200):
        loss = (ae(x_occ) - x).pow(2).mean()
        opt.zero_grad(); loss.backward(); opt.step()
    assert mse_per_image(ae.restore(occ), clean).mean() < 0.3 * before_ae
    before = mse_per_image(ssda.restore(occ), clean).mean()
    opt = torch.optim.Adam(ssda.parameters(), lr=3e-3)
    for layer in range(2):
        for _ in range(50):
            loss = ssda.layer_loss(layer, x_occ, x)
            opt.zero_grad(); loss.backward(); opt.step()
    for _ in range(200):
        loss = ssda.loss(x_occ, x)
        opt.zero_grad(); loss.backward(); opt.step()
    assert mse_per_image(ssda.restore(occ), clean).mean() < 0.3 * before


def test_kl_sparsity_is_zero_at_target_and_positive_elsewhere():
    h = torch.full((4, 5), 0.05)
    assert kl_sparsity(h, 0.05).abs() < 1e-6
    assert kl_sparsity(torch.full((4, 5), 0.5), 0.05) > 0
