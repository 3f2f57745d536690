"""Tests of the CalMRL calibrator (shared-latent PPCA with missing blocks)."""

import numpy as np
import pytest
import torch
from scipy.linalg import subspace_angles
from scipy.stats import multivariate_normal

from sklearn_mmfusion.nn import ModalityCalibrator

DIMS = (10, 15, 20)
Q = 3
SIGMAS = (0.3, 0.5, 0.4)


@pytest.fixture(scope="module", autouse=True)
def _single_thread():
    # Tiny batched linear algebra: threads only add overhead on a busy box.
    n_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n_threads)


def make_data(
    dims=DIMS, q=Q, n=2000, sigmas=SIGMAS, rate=0.3, pairs_only=False, seed=0
):
    """Draw from the model itself and hide whole modality rows."""
    rng = np.random.default_rng(seed)
    Ws = [rng.normal(size=(d, q)) for d in dims]
    mus = [2 * rng.normal(size=d) for d in dims]
    beta = rng.normal(size=(n, q))
    zs = [
        beta @ W.T + mu + s * rng.normal(size=(n, d))
        for W, mu, s, d in zip(Ws, mus, sigmas, dims)
    ]
    M = len(dims)
    if pairs_only:  # no complete case at all: each sample misses one modality
        mask = np.ones((n, M), bool)
        mask[np.arange(n), rng.integers(0, M, size=n)] = False
    else:
        mask = rng.random((n, M)) >= rate
        empty = ~mask.any(1)
        mask[np.flatnonzero(empty), rng.integers(0, M, size=empty.sum())] = True
    return Ws, mus, zs, mask


def to_tensors(zs, mask, filler=0.0, dtype=torch.float32):
    xs = [
        torch.tensor(np.where(mask[:, [m]], z, filler), dtype=dtype)
        for m, z in enumerate(zs)
    ]
    return xs, torch.tensor(mask)


def max_angle(W_true, cal):
    W = torch.cat(cal.components).double().numpy()
    return np.degrees(subspace_angles(np.vstack(W_true), W).max())


def assert_monotone(history):
    h = np.asarray(history)
    assert np.all(np.diff(h) >= -1e-8 * np.abs(h[:-1])), np.diff(h).min()


@pytest.fixture(scope="module")
def fitted():
    Ws, mus, zs, mask = make_data()
    xs, m = to_tensors(zs, mask)
    cal = ModalityCalibrator(DIMS, n_components=Q)
    history = cal.fit_em(xs, m, max_iter=100, tol=1e-7)
    return cal, history, (Ws, mus, zs, mask)


def test_em_recovers_subspace_and_noise(fitted):
    cal, history, (Ws, _, _, _) = fitted
    assert max_angle(Ws, cal) < 5.0
    np.testing.assert_allclose(cal.noise_variance.numpy(), np.square(SIGMAS), rtol=0.15)
    assert history[-1] > history[0]


def test_log_likelihood_never_decreases(fitted):
    _, history, _ = fitted
    assert len(history) > 5
    assert_monotone(history)


def test_imputation_beats_mean_imputation(fitted):
    cal, _, (_, _, zs, mask) = fitted
    xs, m = to_tensors(zs, mask)
    imputed = cal.impute(xs, m)
    err = err_mean = 0.0
    for j, z in enumerate(zs):
        hidden = ~mask[:, j]
        err += np.square(imputed[j].numpy()[hidden] - z[hidden]).sum()
        err_mean += np.square(z[mask[:, j]].mean(0) - z[hidden]).sum()
    assert err < 0.5 * err_mean
    for j, x in enumerate(xs):  # observed rows come back untouched
        assert torch.equal(imputed[j][mask[:, j]], x[mask[:, j]])


def test_em_from_a_random_start_is_monotone_and_recovers():
    Ws, _, zs, mask = make_data(n=1000, seed=1)
    xs, m = to_tensors(zs, mask)
    cal = ModalityCalibrator(DIMS, n_components=Q).initialize(xs, m)
    g = torch.Generator().manual_seed(0)
    for W in cal.components:
        W.copy_(torch.randn(W.shape, generator=g))
    history = cal.fit_em(xs, m, max_iter=40, tol=0.0)
    assert len(history) == 41
    assert_monotone(history)
    assert max_angle(Ws, cal) < 10.0


def test_initialization_without_complete_cases():
    Ws, _, zs, mask = make_data(n=1500, pairs_only=True, seed=2)
    assert not mask.all(1).any()
    xs, m = to_tensors(zs, mask)
    cal = ModalityCalibrator(DIMS, n_components=Q)
    history = cal.fit_em(xs, m, max_iter=50, tol=1e-7)
    assert_monotone(history)
    assert max_angle(Ws, cal) < 5.0


def random_model(dims=(3, 4, 2), q=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    cal = ModalityCalibrator(dims, n_components=q).double()
    for W, mu in zip(cal.components, cal.means):
        W.copy_(torch.randn(W.shape, generator=g, dtype=torch.float64))
        mu.copy_(torch.randn(mu.shape, generator=g, dtype=torch.float64))
    s2 = torch.rand(len(dims), generator=g, dtype=torch.float64) + 0.2
    cal.noise_variance.copy_(s2)
    cal.initialized.fill_(True)
    xs = [torch.randn(7, d, generator=g, dtype=torch.float64) for d in dims]
    mask = torch.tensor(
        [[1, 1, 1], [1, 0, 0], [0, 1, 1], [0, 0, 0], [1, 0, 1], [0, 1, 0], [1, 1, 1]],
        dtype=torch.bool,
    )
    return cal, xs, mask


def test_log_likelihood_matches_dense_gaussian():
    cal, xs, mask = random_model()
    per_sample = cal.log_likelihood(xs, mask, reduction="none")
    Ws, mus, s2 = cal.components, cal.means, cal.noise_variance
    for i in range(mask.shape[0]):
        obs = [m for m in range(3) if mask[i, m]]
        if not obs:
            assert per_sample[i] == 0
            continue
        W = torch.cat([Ws[m] for m in obs]).numpy()
        mu = torch.cat([mus[m] for m in obs]).numpy()
        noise = np.concatenate([np.full(len(mus[m]), float(s2[m])) for m in obs])
        x = torch.cat([xs[m][i] for m in obs]).numpy()
        expected = multivariate_normal(mu, W @ W.T + np.diag(noise)).logpdf(x)
        np.testing.assert_allclose(float(per_sample[i]), expected, rtol=1e-10)
    assert torch.allclose(cal.log_likelihood(xs, mask), per_sample.sum())
    mean_ll = cal.log_likelihood(xs, mask, reduction="mean")
    assert torch.allclose(mean_ll, per_sample.mean())


def test_posterior_matches_per_sample_formula():
    cal, xs, mask = random_model()
    mean, cov = cal.posterior(xs, mask)
    assert mean.shape == (7, 2) and cov.shape == (7, 2, 2)
    for i in range(mask.shape[0]):
        prec = torch.eye(2, dtype=torch.float64)
        rhs = torch.zeros(2, dtype=torch.float64)
        for m, (W, mu) in enumerate(zip(cal.components, cal.means)):
            if mask[i, m]:
                s2 = cal.noise_variance[m]
                prec = prec + W.T @ W / s2
                rhs = rhs + W.T @ (xs[m][i] - mu) / s2
        V = torch.linalg.inv(prec)
        torch.testing.assert_close(cov[i], V)
        torch.testing.assert_close(mean[i], V @ rhs)


def test_sample_with_nothing_observed_gets_the_prior(fitted):
    cal, _, (_, _, zs, mask) = fitted
    mask = mask[:5].copy()
    mask[2] = False
    xs, m = to_tensors([z[:5] for z in zs], mask, filler=np.nan)
    mean, cov = cal.posterior(xs, m)
    assert torch.equal(mean[2], torch.zeros(Q))
    assert torch.equal(cov[2], torch.eye(Q))
    for imputed, mu in zip(cal.impute(xs, m), cal.means):
        assert torch.equal(imputed[2], mu)


def test_nan_filler_gives_identical_results(fitted):
    cal, _, (_, _, zs, mask) = fitted
    x0, m = to_tensors(zs, mask, filler=0.0)
    xn, _ = to_tensors(zs, mask, filler=np.nan)
    for a, b in zip(cal.posterior(x0, m), cal.posterior(xn, m)):
        assert torch.equal(a, b)
    for a, b in zip(cal.impute(x0, m), cal.impute(xn, m)):
        assert torch.equal(a, b)
        assert torch.isfinite(b).all()
    assert torch.equal(cal.log_likelihood(x0, m), cal.log_likelihood(xn, m))
    c0 = ModalityCalibrator(DIMS, n_components=Q)
    cn = ModalityCalibrator(DIMS, n_components=Q)
    assert c0.fit_em(x0, m, max_iter=3) == cn.fit_em(xn, m, max_iter=3)
    for a, b in zip(c0.state_dict().values(), cn.state_dict().values()):
        assert torch.equal(a, b)


@pytest.mark.parametrize("dims, q", [((2, 5, 8), 4), ((3, 3, 3), 3), ((2, 3), 7)])
def test_latent_wider_than_some_modalities(dims, q):
    sigmas = (0.3,) * len(dims)
    _, _, zs, mask = make_data(dims=dims, q=min(q, 3), n=300, sigmas=sigmas, seed=3)
    xs, m = to_tensors(zs, mask)
    cal = ModalityCalibrator(dims, n_components=q)
    history = cal.fit_em(xs, m, max_iter=20, generator=torch.Generator().manual_seed(0))
    assert np.all(np.isfinite(history))
    assert_monotone(history)
    assert all(torch.isfinite(x).all() for x in cal.impute(xs, m))
    assert (cal.noise_variance >= cal.min_variance).all()


def test_state_dict_round_trip(fitted):
    cal, _, (_, _, zs, mask) = fitted
    xs, m = to_tensors([z[:50] for z in zs], mask[:50])
    names = set(cal.state_dict())
    assert {"components_0", "means_2", "noise_variance", "initialized"} <= names
    clone = ModalityCalibrator(DIMS, n_components=Q)
    assert not clone.is_initialized
    clone.load_state_dict(cal.state_dict())
    assert clone.is_initialized
    for a, b in zip(cal.impute(xs, m), clone.impute(xs, m)):
        assert torch.equal(a, b)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_output_dtype_follows_input(fitted, dtype):
    cal, _, (_, _, zs, mask) = fitted
    xs, m = to_tensors([z[:20] for z in zs], mask[:20], dtype=dtype)
    assert all(x.dtype == dtype for x in cal.impute(xs, m))
    mean, cov = cal.posterior(xs, m)
    assert mean.dtype == cov.dtype == dtype
    assert cal.log_likelihood(xs, m).dtype == dtype
    assert cal.noise_variance.dtype == torch.float32  # buffers keep module dtype


def test_forward_keeps_gradient_of_observed_rows_only(fitted):
    cal, _, (_, _, zs, mask) = fitted
    xs, m = to_tensors([z[:30] for z in zs], mask[:30], filler=np.nan)
    xs = [x.requires_grad_() for x in xs]
    out = cal(xs, m)
    sum(o.sum() for o in out).backward()
    for j, x in enumerate(xs):
        expected = torch.tensor(mask[:30, j], dtype=x.dtype)[:, None].expand_as(x)
        assert torch.equal(x.grad, expected)
    assert not any(b.requires_grad for b in cal.buffers())


def test_undetached_imputation_is_differentiable():
    cal, xs, mask = random_model()
    xs = [x.clone().requires_grad_() for x in xs]

    def imputed_rows(*inputs):
        out = cal.impute(list(inputs), mask, detach=False)
        return tuple(o[~mask[:, m]] for m, o in enumerate(out))

    assert torch.autograd.gradcheck(imputed_rows, tuple(xs))
    # Jacobian of sample 1's imputed modality 1 w.r.t. its observed modality 0:
    # W_1 V W_0^T / s_0^2.
    W0, W1 = cal.components[0], cal.components[1]
    V = cal.posterior([x.detach() for x in xs], mask)[1][1]
    expected = W1 @ V @ W0.T / cal.noise_variance[0]
    row = cal.impute(xs, mask, detach=False)[1][1]
    jac = torch.stack(
        [
            torch.autograd.grad(row[k], xs[0], retain_graph=True)[0][1]
            for k in range(W1.shape[0])
        ]
    )
    torch.testing.assert_close(jac, expected)
    # NaN filler: still finite gradients, zero on the missing rows.
    nan_xs = [
        torch.where(mask[:, [m]], x.detach(), torch.nan).requires_grad_()
        for m, x in enumerate(xs)
    ]
    sum(o.sum() for o in cal(nan_xs, mask, detach=False)).backward()
    for m, x in enumerate(nan_xs):
        assert torch.isfinite(x.grad).all()
        assert (x.grad[~mask[:, m]] == 0).all()


def test_m_step_is_one_em_iteration(fitted):
    _, _, (_, _, zs, mask) = fitted
    xs, m = to_tensors([z[:400] for z in zs], mask[:400])
    a = ModalityCalibrator(DIMS, n_components=Q).double().initialize(xs, m)
    b = ModalityCalibrator(DIMS, n_components=Q).double()
    b.load_state_dict(a.state_dict())
    before = a.log_likelihood(xs, m)
    a.m_step(xs, m, *a.posterior(xs, m))
    b.fit_em(xs, m, max_iter=1, tol=0.0)
    for x, y in zip(a.state_dict().values(), b.state_dict().values()):
        torch.testing.assert_close(x, y)
    assert a.log_likelihood(xs, m) >= before


def test_uninitialized_imputes_zeros_and_fit_em_initializes():
    _, _, zs, mask = make_data(n=100, seed=4)
    xs, m = to_tensors(zs, mask)
    cal = ModalityCalibrator(DIMS, n_components=Q)
    for j, x in enumerate(cal.impute(xs, m)):
        assert torch.equal(x[~mask[:, j]], torch.zeros_like(x[~mask[:, j]]))
    cal.fit_em(xs, m, max_iter=2)
    assert cal.is_initialized


def test_input_validation():
    cal = ModalityCalibrator((2, 3), n_components=2)
    mask = torch.ones(4, 2, dtype=torch.bool)
    with pytest.raises(ValueError, match="expected 2 modality"):
        cal.impute([torch.zeros(4, 2)], mask)
    with pytest.raises(ValueError, match="modality 1"):
        cal.impute([torch.zeros(4, 2), torch.zeros(4, 2)], mask)
    with pytest.raises(ValueError, match="mask"):
        cal.impute([torch.zeros(4, 2), torch.zeros(4, 3)], mask[:, :1])
    with pytest.raises(ValueError, match="reduction"):
        cal.log_likelihood([torch.zeros(4, 2), torch.zeros(4, 3)], mask, "max")
    with pytest.raises(ValueError):
        ModalityCalibrator((2, 3), n_components=0)


@pytest.mark.gpu
def test_cuda(fitted):
    cal, _, (_, _, zs, mask) = fitted
    xs, m = to_tensors([z[:100] for z in zs], mask[:100])
    gpu = ModalityCalibrator(DIMS, n_components=Q).cuda()
    gpu.load_state_dict(cal.state_dict())
    out = gpu.impute([x.cuda() for x in xs], m.cuda())
    for a, b in zip(cal.impute(xs, m), out):
        assert b.is_cuda
        torch.testing.assert_close(a, b.cpu())
    history = gpu.fit_em([x.cuda() for x in xs], m, max_iter=5)
    assert_monotone(history)
