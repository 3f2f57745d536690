"""CalMRL calibrator: a shared-latent (probabilistic PCA) model of the modalities.

Implements the generative step of CalMRL (Liu et al., arXiv 2511.12034): every
modality is a noisy linear view of one shared latent, fitted by EM with the
missing blocks marginalised out, and a missing modality is imputed by its
posterior-mean prediction from the observed ones. Pure PyTorch; the
parameters are buffers, updated in closed form, never by gradient descent.
"""

import math

import torch
from torch import nn


def _patterns(mask):
    """Distinct rows of ``mask`` (P, M) and each sample's row index (n,)."""
    n_mod = mask.shape[1]
    if n_mod > 62:
        return torch.unique(mask, dim=0, return_inverse=True)
    bits = 2 ** torch.arange(n_mod, device=mask.device)
    codes, inverse = torch.unique((mask.long() * bits).sum(1), return_inverse=True)
    return (codes[:, None] & bits) > 0, inverse


def _e_step(Ws, mus, s2, zs, mask, need_cov=True, need_ll=False):
    r"""Batched posterior :math:`p(\beta_i \mid z_i^{\Omega_i}) = N(m_i, V_i)`.

    ``zs`` must already hold zeros (not NaN) in the missing rows. The q x q
    precision depends only on the observed set, so it is factorised once per
    distinct row of ``mask``. Returns ``(mean, cov, loglik)``; ``cov`` and
    ``loglik`` are ``None`` unless asked.
    """
    n, q = mask.shape[0], Ws[0].shape[1]
    dtype, device = Ws[0].dtype, Ws[0].device
    eye = torch.eye(q, dtype=dtype, device=device)
    # Precision I + sum_{m in Omega} W_m^T W_m / s_m^2 for each observed set.
    patterns, inverse = _patterns(mask)
    gram = torch.stack([W.T @ W / s for W, s in zip(Ws, s2)])
    precision = eye + torch.einsum("pm,mab->pab", patterns.to(dtype), gram)
    chol = torch.linalg.cholesky(precision)
    V = torch.cholesky_solve(eye.expand_as(precision), chol)
    V = 0.5 * (V + V.mT)
    b = torch.zeros(n, q, dtype=dtype, device=device)
    quad = torch.zeros(n, dtype=dtype, device=device)
    zero = torch.zeros((), dtype=dtype, device=device)
    for m, (W, mu, z) in enumerate(zip(Ws, mus, zs)):
        r = torch.where(mask[:, m, None], z - mu, zero)
        b = b + r @ W / s2[m]
        if need_ll:
            quad = quad + (r * r).sum(1) / s2[m]
    cov = V[inverse]
    mean = (cov @ b.unsqueeze(-1)).squeeze(-1)
    loglik = None
    if need_ll:
        # Woodbury + determinant lemma: log|C| = log|P| + sum D_m log s_m^2,
        # r^T C^{-1} r = r^T Psi^{-1} r - b^T P^{-1} b.
        dims = torch.tensor([W.shape[0] for W in Ws], dtype=dtype, device=device)
        const = patterns.to(dtype) @ (dims * (math.log(2 * math.pi) + torch.log(s2)))
        const = const + 2 * torch.log(torch.diagonal(chol, dim1=-2, dim2=-1)).sum(-1)
        loglik = -0.5 * (const[inverse] + quad - (b * mean).sum(1))
    return mean, (cov if need_cov else None), loglik


def _m_step(Ws, mus, s2, zs, mask, mean, cov, min_variance):
    """Exact joint update of (W_m, mu_m) then s_m^2, per observed modality."""
    q = mean.shape[1]
    Ws, mus, s2 = list(Ws), list(mus), s2.clone()
    for m, z in enumerate(zs):
        obs = mask[:, m]
        n_obs = int(obs.sum())
        if n_obs == 0:
            continue  # nothing to learn from: keep the current parameters
        z = z[obs]
        center = z.mean(0)
        zc = z - center  # centring only for numerical accuracy
        e = mean[obs]
        s1 = e.sum(0, keepdim=True)
        second = torch.einsum("n,nab->ab", obs.to(cov.dtype), cov) + e.T @ e
        # Sufficient statistics of the augmented latent [beta; 1].
        stats = torch.cat(
            [
                torch.cat([second, s1.T], 1),
                torch.cat([s1, s1.new_full((1, 1), n_obs)], 1),
            ],
            0,
        )
        cross = torch.cat([zc.T @ e, zc.sum(0)[:, None]], 1)  # (D_m, q + 1)
        Wt = torch.linalg.solve(stats, cross.T).T
        resid = (zc * zc).sum() - 2 * (Wt * cross).sum() + ((Wt @ stats) * Wt).sum()
        s2[m] = torch.clamp(resid / (n_obs * z.shape[1]), min=min_variance)
        Ws[m], mus[m] = Wt[:, :q], center + Wt[:, q]
    return Ws, mus, s2


class ModalityCalibrator(nn.Module):
    r"""Shared-latent model of M modalities, fitted by EM with missing blocks.

    The CalMRL generative model (probabilistic PCA with one shared latent):

    .. math::

        \beta \sim N(0, I_q), \qquad
        z^m = W^m \beta + \mu^m + \varepsilon^m, \qquad
        \varepsilon^m \sim N(0, \sigma_m^2 I_{D_m}),

    with :math:`z^m \in \mathbb{R}^{D_m}`. For a sample with observed set
    :math:`\Omega` the closed-form posterior (E-step) is

    .. math::

        V = \Big(I + \sum_{m \in \Omega} \sigma_m^{-2} W^{m\top} W^m\Big)^{-1},
        \qquad
        \hat\beta = V \sum_{m \in \Omega} \sigma_m^{-2} W^{m\top} (z^m - \mu^m),

    and a missing modality :math:`m'` is imputed by
    :math:`\hat z^{m'} = W^{m'} \hat\beta + \mu^{m'}`. A sample with nothing
    observed gets the prior: :math:`\hat\beta = 0`, :math:`V = I`,
    :math:`\hat z^{m} = \mu^{m}`.

    The M-step maximises, for each modality over the samples where it is
    observed (:math:`N_m`), the expected complete log-likelihood, jointly in
    :math:`[W^m, \mu^m]` through the augmented latent :math:`\tilde\beta =
    [\beta; 1]`:

    .. math::

        [W^m, \mu^m] = \Big(\sum_{i \in N_m} z_i^m \,
        E[\tilde\beta_i]^\top\Big) \Big(\sum_{i \in N_m}
        E[\tilde\beta_i \tilde\beta_i^\top]\Big)^{-1},
        \qquad
        \sigma_m^2 = \max\Big(\tfrac{1}{|N_m| D_m} \sum_{i \in N_m}
        E\|z_i^m - W^m\beta_i - \mu^m\|^2, \ \sigma^2_{\min}\Big),

    so every EM iteration increases the marginal log-likelihood of the observed
    blocks, :math:`\sum_i \log N(z_i^{\Omega_i}; \mu^{\Omega_i},
    W^{\Omega_i} W^{\Omega_i\top} + \operatorname{diag}(\sigma^2))`, which is
    evaluated with the Woodbury identity in :math:`O(n q^2 + n D q)` (no
    :math:`D \times D` matrix is formed).

    Parameters
    ----------
    modality_dims : sequence of int
        Width :math:`D_m` of each modality's representation.
    n_components : int, default=16
        Latent dimension :math:`q`.
    min_variance : float, default=1e-4
        Floor :math:`\sigma^2_{\min}` of every noise variance.

    Attributes
    ----------
    components_{m} : Tensor of shape (D_m, q)
        :math:`W^m`, one buffer per modality ``m = 0 .. M-1``.
    means_{m} : Tensor of shape (D_m,)
        :math:`\mu^m`.
    noise_variance : Tensor of shape (M,)
        :math:`\sigma_m^2`.
    initialized : bool Tensor
        Whether the parameters were set from data (before that, ``W = 0``,
        ``mu = 0``, so every imputation is zero).

    Notes
    -----
    All the attributes above are buffers: they are in ``state_dict`` and
    follow ``.to()``.

    Calling convention as for the fusion networks: ``zs`` is a sequence of
    ``M`` tensors of shape ``(n, D_m)`` whose missing rows hold filler
    values; ``mask`` is a boolean ``(n, M)`` tensor, ``True`` where observed.
    Filler values never enter the computation (they are replaced with
    :func:`torch.where`), so NaN filler is safe. All computations run in
    float64 (float32 on MPS); results come back in the inputs' dtype. The
    buffers are stored in the module's dtype and follow ``.to(device)``.
    """

    def __init__(self, modality_dims, n_components=16, min_variance=1e-4):
        super().__init__()
        self.modality_dims = tuple(int(d) for d in modality_dims)
        if not self.modality_dims or min(self.modality_dims) < 1:
            raise ValueError(f"modality_dims must be positive, got {modality_dims}")
        if int(n_components) < 1:
            raise ValueError(f"n_components must be >= 1, got {n_components}")
        if not min_variance > 0:
            raise ValueError(f"min_variance must be > 0, got {min_variance}")
        self.n_components = int(n_components)
        self.min_variance = float(min_variance)
        for m, d in enumerate(self.modality_dims):
            self.register_buffer(f"components_{m}", torch.zeros(d, self.n_components))
            self.register_buffer(f"means_{m}", torch.zeros(d))
        self.register_buffer("noise_variance", torch.ones(len(self.modality_dims)))
        self.register_buffer("initialized", torch.tensor(False))

    def extra_repr(self):
        return (
            f"modality_dims={self.modality_dims}, n_components={self.n_components}, "
            f"min_variance={self.min_variance}"
        )

    @property
    def n_modalities(self):
        return len(self.modality_dims)

    @property
    def is_initialized(self):
        return bool(self.initialized)

    @property
    def components(self):
        """List of the :math:`W^m`, each of shape (D_m, q)."""
        return [getattr(self, f"components_{m}") for m in range(self.n_modalities)]

    @property
    def means(self):
        """List of the :math:`\\mu^m`, each of shape (D_m,)."""
        return [getattr(self, f"means_{m}") for m in range(self.n_modalities)]

    # -- internal helpers ---------------------------------------------------

    def _compute_dtype(self):
        device = self.noise_variance.device
        return torch.float32 if device.type == "mps" else torch.float64

    def _params(self):
        dtype = self._compute_dtype()
        return (
            [W.to(dtype) for W in self.components],
            [mu.to(dtype) for mu in self.means],
            self.noise_variance.to(dtype),
        )

    def _store(self, Ws, mus, s2):
        for W, mu, W_buf, mu_buf in zip(Ws, mus, self.components, self.means):
            W_buf.copy_(W)
            mu_buf.copy_(mu)
        self.noise_variance.copy_(s2)
        self.initialized.fill_(True)

    def _prepare(self, zs, mask, detach=True):
        """Validate; cast to the compute dtype/device; zero the missing rows."""
        if len(zs) != self.n_modalities:
            raise ValueError(
                f"expected {self.n_modalities} modality tensors, got {len(zs)}"
            )
        device, dtype = self.noise_variance.device, self._compute_dtype()
        mask = torch.as_tensor(mask).to(device=device, dtype=torch.bool)
        if mask.ndim != 2 or mask.shape[1] != self.n_modalities:
            raise ValueError(
                f"mask must have shape (n, {self.n_modalities}), "
                f"got {tuple(mask.shape)}"
            )
        zero = torch.zeros((), dtype=dtype, device=device)
        out = []
        for m, (z, d) in enumerate(zip(zs, self.modality_dims)):
            z = torch.as_tensor(z)
            if tuple(z.shape) != (mask.shape[0], d):
                raise ValueError(
                    f"modality {m}: expected shape ({mask.shape[0]}, {d}), "
                    f"got {tuple(z.shape)}"
                )
            z = (z.detach() if detach else z).to(device=device, dtype=dtype)
            out.append(torch.where(mask[:, m, None], z, zero))
        return out, mask

    @staticmethod
    def _out_dtype(zs):
        if not len(zs):
            return torch.get_default_dtype()
        z = torch.as_tensor(zs[0])
        return z.dtype if z.is_floating_point() else torch.get_default_dtype()

    # -- public API ---------------------------------------------------------

    @torch.no_grad()
    def initialize(self, zs, mask, generator=None):
        r"""Set the parameters from data by a PCA of the pairwise covariance.

        :math:`\mu^m` is the mean of the observed rows. The covariance of the
        stacked, centred representations is estimated block by block from
        the samples where both modalities are observed (so no complete case
        is needed, only overlapping pairs); its top-:math:`q` eigenpairs
        :math:`(\lambda_k, u_k)` give :math:`W = U (\Lambda - \bar\sigma^2)^{1/2}`
        (clipped from below, so no column starts at zero) and
        :math:`\sigma_m^2` is the variance of modality :math:`m` left
        unexplained. ``generator`` draws the extra columns needed only when
        :math:`q > \sum_m D_m`. Returns ``self``.
        """
        zs, mask = self._prepare(zs, mask)
        dtype, device = zs[0].dtype, zs[0].device
        q, dims = self.n_components, self.modality_dims
        observed = mask.to(dtype)
        counts = observed.sum(0)
        mus = [z.sum(0) / counts[m].clamp_min(1) for m, z in enumerate(zs)]
        zero = torch.zeros((), dtype=dtype, device=device)
        X = torch.cat(
            [
                torch.where(mask[:, m, None], z - mu, zero)
                for m, (z, mu) in enumerate(zip(zs, mus))
            ],
            1,
        )
        # Block (m, m') of the covariance: average over the samples where
        # both modalities are observed.
        sizes = torch.tensor(dims, device=device)
        pairs = observed.T @ observed
        pairs = pairs.repeat_interleave(sizes, 0).repeat_interleave(sizes, 1)
        cov = X.T @ X / pairs.clamp_min(1)
        evals, evecs = torch.linalg.eigh(0.5 * (cov + cov.T))
        k = min(q, evals.numel())
        lam = evals.flip(0)[:k].clamp_min(0)
        U = evecs.flip(1)[:, :k]

        total_var = torch.diagonal(cov).split(dims)
        s2 = torch.ones(self.n_modalities, dtype=dtype, device=device)
        for m, (var, Um) in enumerate(zip(total_var, U.split(dims))):
            if counts[m] > 0:
                per_dim = var.sum() / dims[m]
                resid = (var.sum() - (Um.square() * lam).sum()) / dims[m]
                s2[m] = torch.clamp(
                    torch.maximum(resid, 1e-3 * per_dim), min=self.min_variance
                )
        mean_s2 = (s2 * sizes.to(dtype)).sum() / sizes.sum()
        top = lam[0] if k else torch.zeros((), dtype=dtype, device=device)
        floor = 1e-3 * torch.maximum(top, mean_s2)
        W = U * (lam - mean_s2).clamp_min(floor).sqrt()
        if k < q:  # more latent dimensions than stacked features
            gen_device = generator.device if generator is not None else "cpu"
            extra = torch.randn(
                W.shape[0], q - k, generator=generator, dtype=dtype, device=gen_device
            )
            W = torch.cat([W, extra.to(device) * floor.sqrt()], 1)
        self._store(list(W.split(dims)), mus, s2)
        return self

    @torch.no_grad()
    def posterior(self, zs, mask):
        r"""Closed-form E-step.

        Returns
        -------
        mean : Tensor of shape (n, q)
            :math:`\hat\beta_i = E[\beta_i \mid z_i^{\Omega_i}]`.
        cov : Tensor of shape (n, q, q)
            :math:`V_i = \operatorname{Cov}[\beta_i \mid z_i^{\Omega_i}]`.
        """
        out_dtype = self._out_dtype(zs)
        zs, mask = self._prepare(zs, mask)
        mean, cov, _ = _e_step(*self._params(), zs, mask)
        return mean.to(out_dtype), cov.to(out_dtype)

    @torch.no_grad()
    def m_step(self, zs, mask, mean, cov):
        """Closed-form M-step from a posterior ``(mean, cov)`` (see class doc).

        Updates the buffers in place (a modality never observed keeps its
        parameters) and returns ``self``.
        """
        zs, mask = self._prepare(zs, mask)
        dtype, device = zs[0].dtype, zs[0].device
        mean = torch.as_tensor(mean).to(device=device, dtype=dtype)
        cov = torch.as_tensor(cov).to(device=device, dtype=dtype)
        self._store(*_m_step(*self._params(), zs, mask, mean, cov, self.min_variance))
        return self

    @torch.no_grad()
    def log_likelihood(self, zs, mask, reduction="sum"):
        r"""Marginal log-likelihood of the observed blocks.

        :math:`\log p(z_i^{\Omega_i}) = \log N(z_i^{\Omega_i};
        \mu^{\Omega_i}, W^{\Omega_i} W^{\Omega_i\top} +
        \operatorname{diag}(\sigma^2))`, computed with the Woodbury identity
        and the matrix determinant lemma. A sample with nothing observed
        contributes 0.

        Parameters
        ----------
        reduction : {"sum", "mean", "none"}, default="sum"
            Total, mean over the ``n`` samples, or per sample (shape (n,)).
        """
        if reduction not in ("sum", "mean", "none"):
            raise ValueError(
                f"reduction must be 'sum', 'mean' or 'none', got {reduction!r}"
            )
        out_dtype = self._out_dtype(zs)
        zs, mask = self._prepare(zs, mask)
        _, _, ll = _e_step(*self._params(), zs, mask, need_cov=False, need_ll=True)
        if reduction == "sum":
            ll = ll.sum()
        elif reduction == "mean":
            ll = ll.mean()
        return ll.to(out_dtype)

    @torch.no_grad()
    def fit_em(self, zs, mask, max_iter=100, tol=1e-4, generator=None):
        """Run EM (calling :meth:`initialize` first if not yet initialised).

        Stops after ``max_iter`` iterations or when the relative change of the
        log-likelihood is at most ``tol``.

        Returns
        -------
        history : list of float
            Mean log-likelihood per sample (float64): ``history[0]`` at the
            starting parameters, ``history[k]`` after ``k`` iterations; the
            buffers hold the parameters of ``history[-1]``. It never
            decreases (up to rounding).
        """
        if not self.is_initialized:
            self.initialize(zs, mask, generator=generator)
        zs, mask = self._prepare(zs, mask)
        n = max(mask.shape[0], 1)
        params = self._params()
        mean, cov, ll = _e_step(*params, zs, mask, need_ll=True)
        history = [ll.sum().item() / n]
        for _ in range(int(max_iter)):
            params = _m_step(*params, zs, mask, mean, cov, self.min_variance)
            mean, cov, ll = _e_step(*params, zs, mask, need_ll=True)
            history.append(ll.sum().item() / n)
            if abs(history[-1] - history[-2]) <= tol * abs(history[-2]):
                break
        self._store(*params)
        return history

    def impute(self, zs, mask, detach=True):
        r"""Fill the missing rows with :math:`W^{m} \hat\beta_i + \mu^{m}`.

        Parameters
        ----------
        zs : sequence of M Tensors of shape (n, D_m)
        mask : bool Tensor of shape (n, M)
        detach : bool, default=True
            Imputed rows are detached by default: the generative step is
            closed-form, as in the paper's bi-step training. With
            ``detach=False`` they are differentiable with respect to the
            observed rows of the same sample (through :math:`\hat\beta_i`,
            which is linear in them); the buffers are constants either way.

        Returns
        -------
        list of M Tensors of shape (n, D_m)
            In the dtype and on the device of the corresponding input.
            Observed rows are the input rows themselves (their autograd
            history is kept).
        """
        with torch.set_grad_enabled(torch.is_grad_enabled() and not detach):
            zc, mask_c = self._prepare(zs, mask, detach=detach)
            Ws, mus, s2 = self._params()
            mean, _, _ = _e_step(Ws, mus, s2, zc, mask_c, need_cov=False)
            fills = [mean @ W.T + mu for W, mu in zip(Ws, mus)]
        out = []
        for m, (z, fill) in enumerate(zip(zs, fills)):
            z = torch.as_tensor(z)
            if not z.is_floating_point():
                z = z.to(torch.get_default_dtype())
            fill = fill.to(device=z.device, dtype=z.dtype)
            out.append(torch.where(mask_c[:, m, None].to(z.device), z, fill))
        return out

    def forward(self, zs, mask, detach=True):
        """Same as :meth:`impute`: the "calibrated" missing-modality fill."""
        return self.impute(zs, mask, detach=detach)
