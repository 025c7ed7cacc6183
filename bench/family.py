"""The conditional-sampling benchmark's maths (issue 21): a family of priors with exact denoisers and
exact conditionals, the masks, the exact output law of a sampler, and the distances.

Pure torch, float64 throughout; nothing here imports ComfyUI. The command that
runs it is ``python -m bench.bench_family`` (see that module); tests are ``tests/unit/test_bench_family.py``.

Conventions. A prior lives on ``d`` coordinates (a 1-D signal, or an image flattened row-major). A
mask is a bool vector ``[d]``, True = unknown (to generate), as ComfyUI's noise_mask = 1. Noisy states
follow the VE convention of :mod:`samplers.repaint`: ``x = x0 + sigma * eps``.

Priors.
    :class:`GaussianPrior`: N(0, K + jitter I) with K a stationary kernel on the grid: squared
    exponential (RBF) ``exp(-r^2 / (2 l^2))`` or Matern-1/2 ``exp(-r / l)`` (Rasmussen & Williams 2006,
    "Gaussian processes for machine learning", eq. 4.9 and 4.14 with nu = 1/2). Its denoiser is
    ``E[x0 | x] = G(sigma) x`` with ``G = S (S + sigma^2 I)^-1 = I - sigma^2 (S + sigma^2 I)^-1``
    (solved by Cholesky), its conditional the Schur complement (Cholesky solve).
    :class:`MixturePrior`: ``sum_c pi_c N(mu_c, S)`` with a shared covariance S: exact denoiser
    ``G x + (I - G) sum_c w_c(x) mu_c`` with ``w_c(x)`` the responsibilities under ``N(mu_c, S +
    sigma^2 I)``; exact conditional: a mixture of the components' Schur conditionals with weights
    ``pi_c N(y; mu_c,k, S_kk)``, normalised (Bishop 2006, "Pattern recognition and machine learning",
    eq. 2.81-2.82 and 9.12-9.13).

Exact laws. With a Gaussian prior and its exact denoiser every step of every sampler benchmarked here
(DDPM / DDIM steps, RePaint's re-noising jumps, kinetic Langevin steps, LanPaint's exact linear flows,
the known-region replacement) is affine in the state and in Gaussian noises, so the output is Gaussian.
:class:`Affine` runs the samplers' OWN code (``sample_langevin_pc``, ``sample_repaint``, :func:`lanpaint`)
on random vectors written as affine maps of independent standard normals: an :class:`AffineRV` holds
the coefficients, its noise sampler hands out fresh basis variables, and when the basis grows the live
random vectors are compressed together by a QR factorisation (their joint law is unchanged: a new
orthonormal basis of the same span). The output's mean and covariance are then exact up to rounding;
no sampling floor.

Reproducibility. Ground truths (known values, mixture means, random masks) are drawn from seeded
``torch.Generator`` s and transformed by Cholesky factors; no eigenvectors are used anywhere (only the
eigenvalues of a symmetric matrix, in :func:`w2_gaussian`, which are unique and perfectly conditioned).
"""

from __future__ import annotations

import functools
import itertools
import math
import os
import platform
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

from repaint_extend.pixel.schedule import DiscreteSchedule, space_timesteps
from repaint_extend.samplers import power_timesteps

DTYPE = torch.float64
T_TRAIN = 1000
SCHEDULE = DiscreteSchedule()  # guided-diffusion's linear beta, T = 1000 (RePaint's models)


# ----------------------------------------------------------------------------------------------
# schedules


def linear_sigmas(steps: int) -> torch.Tensor:
    """RePaint's sigmas for ``steps`` respaced steps (guided-diffusion ``space_timesteps``) then 0,
    ``[steps + 1]`` float64; above 1,000 steps fractional timesteps evenly spaced in [0, 999]."""
    if steps <= T_TRAIN:
        return SCHEDULE.sigmas_for_timesteps(space_timesteps(T_TRAIN, steps)).to(DTYPE)
    t = torch.linspace(T_TRAIN - 1, 0, steps, dtype=DTYPE)
    return torch.cat([SCHEDULE.t_to_sigma(t).to(DTYPE), torch.zeros(1, dtype=DTYPE)])


def power_sigmas(steps: int, power: float) -> torch.Tensor:
    """The sigmas of Power Scheduler (RePaint): the DDPM's sigma at timesteps
    ``999 (k / (steps - 1)) ** power`` (:func:`samplers.power_timesteps`), then 0; ``[steps + 1]``."""
    t = torch.tensor(power_timesteps(steps, power, T_TRAIN - 1), dtype=DTYPE)
    return torch.cat([SCHEDULE.t_to_sigma(t).to(DTYPE), torch.zeros(1, dtype=DTYPE)])


# ----------------------------------------------------------------------------------------------
# priors


def grid_points(shape: tuple[int, ...]) -> torch.Tensor:
    """Integer grid coordinates ``[d, len(shape)]``, row-major."""
    axes = [torch.arange(n, dtype=DTYPE) for n in shape]
    return torch.stack([g.reshape(-1) for g in torch.meshgrid(*axes, indexing="ij")], 1)


def kernel_matrix(shape: tuple[int, ...], kind: str, length: float) -> torch.Tensor:
    """Stationary unit-variance kernel on the grid ``shape``: ``"rbf"`` exp(-r^2 / (2 l^2)) or
    ``"matern12"`` exp(-r / l) (r = Euclidean distance in grid units), ``[d, d]`` float64."""
    p = grid_points(shape)
    r2 = ((p[:, None, :] - p[None, :, :]) ** 2).sum(-1)
    if kind == "rbf":
        return torch.exp(-r2 / (2.0 * length * length))
    if kind == "matern12":
        return torch.exp(-r2.sqrt() / length)
    raise ValueError(f"kernel kind must be 'rbf' or 'matern12', got {kind!r}")


def cholesky_solve(a_chol: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """A^-1 b for A = L L^T given L (``torch.cholesky_solve``)."""
    return torch.cholesky_solve(b, a_chol)


class GaussianPrior:
    """x0 ~ N(mean, cov) on ``d`` coordinates with its exact VE denoiser and conditionals.

    Args:
        cov: ``[d, d]`` symmetric positive definite, float64.
        mean: ``[d]`` (default 0).
    """

    def __init__(self, cov: torch.Tensor, mean: torch.Tensor | None = None):
        self.cov = cov.to(DTYPE)
        self.d = cov.shape[0]
        self.mean = torch.zeros(self.d, dtype=DTYPE) if mean is None else mean.to(DTYPE)
        self.chol = torch.linalg.cholesky(self.cov)
        self._gains: dict[float, torch.Tensor] = {}

    def gain(self, sigma: float) -> torch.Tensor:
        """``G = S (S + sigma^2 I)^-1 = I - sigma^2 (S + sigma^2 I)^-1``, ``[d, d]`` (cached per sigma)."""
        sigma = float(sigma)
        if sigma not in self._gains:
            eye = torch.eye(self.d, dtype=DTYPE)
            if sigma == 0.0:
                g = eye
            else:
                chol = torch.linalg.cholesky(self.cov + sigma * sigma * eye)
                g = eye - sigma * sigma * cholesky_solve(chol, eye)
                g = 0.5 * (g + g.T)
            self._gains[sigma] = g
        return self._gains[sigma]

    def denoise(self, x, sigma: float):
        """E[x0 | x] for ``x [B, d]`` (a tensor or an :class:`AffineRV`): ``mean + (x - mean) G``."""
        g = self.gain(sigma)
        return (x - self.mean) @ g + self.mean

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """``[n, d]`` draws, ``mean + z L^T`` with L the Cholesky factor."""
        z = torch.randn(n, self.d, generator=generator, dtype=DTYPE)
        return self.mean + z @ self.chol.T

    def conditional(self, mask: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean ``[u]`` and covariance ``[u, u]`` of the unknown coordinates (``mask`` True) given the
        known values ``y [d]`` (its unknown entries ignored); Schur complement by Cholesky solve."""
        u, k = mask, ~mask
        s_kk = self.cov[k][:, k]
        s_uk = self.cov[u][:, k]
        lk = torch.linalg.cholesky(s_kk)
        a = cholesky_solve(lk, s_uk.T).T  # S_uk S_kk^-1
        mean = self.mean[u] + a @ (y[k] - self.mean[k])
        cov = self.cov[u][:, u] - a @ s_uk.T
        return mean, 0.5 * (cov + cov.T)


class MixturePrior:
    """x0 ~ sum_c pi_c N(mu_c, S) (shared covariance S): exact denoiser and exact conditional.

    Args:
        weights: ``[C]`` positive, summing to 1; means: ``[C, d]``; cov: ``[d, d]`` SPD.
    """

    def __init__(self, weights: torch.Tensor, means: torch.Tensor, cov: torch.Tensor):
        self.weights = weights.to(DTYPE)
        self.means = means.to(DTYPE)
        self.base = GaussianPrior(cov)
        self.cov = self.base.cov
        self.d = cov.shape[0]
        self._noisy: dict[float, tuple[torch.Tensor, torch.Tensor]] = {}

    def _noisy_terms(self, sigma: float):
        if sigma not in self._noisy:
            chol = torch.linalg.cholesky(self.cov + sigma * sigma * torch.eye(self.d, dtype=DTYPE))
            p = cholesky_solve(chol, torch.eye(self.d, dtype=DTYPE))
            p = 0.5 * (p + p.T)
            pm = self.means @ p  # [C, d]
            self._noisy[sigma] = (pm, -0.5 * (pm * self.means).sum(1) + self.weights.log())
        return self._noisy[sigma]

    def responsibilities(self, x: torch.Tensor, sigma: float) -> torch.Tensor:
        """``[B, C]`` posterior component probabilities of ``x [B, d]`` under N(mu_c, S + sigma^2 I)."""
        pm, offset = self._noisy_terms(float(sigma))
        return torch.softmax(x @ pm.T + offset, dim=1)

    def denoise(self, x: torch.Tensor, sigma: float) -> torch.Tensor:
        """E[x0 | x] for ``x [B, d]``: ``G x + (I - G) sum_c w_c(x) mu_c``."""
        sigma = float(sigma)
        g = self.base.gain(sigma)
        mbar = self.responsibilities(x, sigma) @ self.means if sigma > 0 else x
        return x @ g + mbar - mbar @ g

    def sample(self, n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """``n`` draws ``[n, d]`` and their components ``[n]``."""
        comp = torch.multinomial(self.weights, n, replacement=True, generator=generator)
        return self.means[comp] + self.base.sample(n, generator), comp

    def conditional(self, mask: torch.Tensor, y: torch.Tensor):
        """The exact conditional of the unknown part given ``y``: (weights ``[C]``, means ``[C, u]``,
        shared covariance ``[u, u]``)."""
        u, k = mask, ~mask
        s_kk = self.cov[k][:, k]
        lk = torch.linalg.cholesky(s_kk)
        a = cholesky_solve(lk, self.cov[u][:, k].T).T
        cov = self.cov[u][:, u] - a @ self.cov[u][:, k].T
        diff = y[k][None, :] - self.means[:, k]  # [C, k]
        maha = (diff * cholesky_solve(lk, diff.T).T).sum(1)
        logw = self.weights.log() - 0.5 * maha
        weights = torch.softmax(logw, 0)
        means = self.means[:, u] + diff @ a.T
        return weights, means, 0.5 * (cov + cov.T)


# ----------------------------------------------------------------------------------------------
# masks

MASKS = ("half", "expand", "every_second", "box", "random50", "band")
"""``half``: the first half unknown (left half of an image); ``expand``: only the centre half (centre
box of half the height and width) known, RePaint's expand; ``every_second``: odd positions (odd rows)
unknown; ``box``: a hole in the middle, a quarter of the length (the centre box of half the height
and width) unknown; ``random50``: a seeded random half of the coordinates unknown; ``band``: the last
quarter (bottom quarter of the rows) unknown, an outpainting band."""


def family_mask(name: str, shape: tuple[int, ...], seed: int = 0) -> torch.Tensor:
    """The mask ``name`` (one of :data:`MASKS`) on a 1-D ``(d,)`` or 2-D ``(h, w)`` grid: bool ``[d]``,
    True = unknown. ``random50`` draws its half with ``torch.randperm`` from a generator seeded ``seed``.

    Raises:
        ValueError: unknown name or a shape of more than 2 axes.
    """
    if len(shape) not in (1, 2):
        raise ValueError(f"shape must have 1 or 2 axes, got {shape}")
    h, w = (1, shape[0]) if len(shape) == 1 else shape
    m = torch.zeros(h, w, dtype=torch.bool)
    if name == "half":
        m[:, : w // 2] = True
    elif name == "expand":
        m[:] = True
        if len(shape) == 1:
            m[:, w // 4 : w // 4 + w // 2] = False
        else:
            m[h // 4 : h // 4 + h // 2, w // 4 : w // 4 + w // 2] = False
    elif name == "every_second":
        if len(shape) == 1:
            m[:, 1::2] = True
        else:
            m[1::2, :] = True
    elif name == "box":
        if len(shape) == 1:
            m[:, (3 * w) // 8 : (3 * w) // 8 + w // 4] = True
        else:
            m[h // 4 : h // 4 + h // 2, w // 4 : w // 4 + w // 2] = True
    elif name == "random50":
        perm = torch.randperm(h * w, generator=torch.Generator().manual_seed(seed))
        m.view(-1)[perm[: (h * w) // 2]] = True
    elif name == "band":
        if len(shape) == 1:
            m[:, w - w // 4 :] = True
        else:
            m[h - h // 4 :, :] = True
    else:
        raise ValueError(f"mask must be one of {MASKS}, got {name!r}")
    return m.reshape(-1)


# ----------------------------------------------------------------------------------------------
# distances


def w2_gaussian(m1: torch.Tensor, c1: torch.Tensor, m2: torch.Tensor, c2: torch.Tensor) -> float:
    """2-Wasserstein distance between N(m1, c1) and N(m2, c2), c2 positive definite.

    ``W2^2 = |m1 - m2|^2 + tr c1 + tr c2 - 2 tr (c2^1/2 c1 c2^1/2)^1/2`` (Dowson & Landau 1982; Givens &
    Shortt 1984). The last trace is ``sum_i sqrt(lambda_i)`` over the eigenvalues of ``L^T c1 L`` with
    ``c2 = L L^T`` (Cholesky): ``L^T c1 L`` is similar to ``c2 c1`` and so to ``c2^1/2 c1 c2^1/2``. Only
    eigenvalues of a symmetric PSD matrix are used (unique, perfectly conditioned: Weyl), no matrix square
    root and no eigenvectors, so the figure does not depend on the BLAS path beyond rounding.
    """
    m1, c1, m2, c2 = (t.to(DTYPE) for t in (m1, c1, m2, c2))
    lo = torch.linalg.cholesky(0.5 * (c2 + c2.T))
    inner = lo.T @ c1 @ lo
    lam = torch.linalg.eigvalsh(0.5 * (inner + inner.T)).clamp(min=0.0)
    w2sq = float(((m1 - m2) ** 2).sum() + torch.trace(c1) + torch.trace(c2) - 2.0 * lam.sqrt().sum())
    return math.sqrt(max(w2sq, 0.0))


def sliced_w2(a: torch.Tensor, b: torch.Tensor, projections: int = 64, seed: int = 0) -> float:
    """Sliced 2-Wasserstein distance between two equal-size samples ``[n, u]``: the root mean over
    ``projections`` seeded random unit directions of the 1-D W2^2 between sorted projections
    (Bonneel et al. 2015, "Sliced and Radon Wasserstein barycenters of measures", eq. 2)."""
    if a.shape != b.shape:
        raise ValueError(f"samples must have equal shapes, got {tuple(a.shape)} and {tuple(b.shape)}")
    g = torch.Generator().manual_seed(seed)
    dirs = torch.randn(a.shape[1], projections, generator=g, dtype=DTYPE)
    dirs = dirs / dirs.norm(dim=0, keepdim=True)
    pa = torch.sort(a.to(DTYPE) @ dirs, dim=0).values
    pb = torch.sort(b.to(DTYPE) @ dirs, dim=0).values
    return float(((pa - pb) ** 2).mean().sqrt())


def mixture_weight_estimate(samples: torch.Tensor, weights, means, cov) -> torch.Tensor:
    """Component weights of ``samples [n, u]`` under a mixture with shared covariance: the mean of each
    sample's responsibilities ``[C]``."""
    lo = torch.linalg.cholesky(cov)
    p = cholesky_solve(lo, torch.eye(cov.shape[0], dtype=DTYPE))
    pm = means @ p
    logits = samples.to(DTYPE) @ pm.T - 0.5 * (pm * means).sum(1) + weights.log()
    return torch.softmax(logits, 1).mean(0)


def tv(p: torch.Tensor, q: torch.Tensor) -> float:
    """Total-variation distance ``0.5 sum |p - q|`` between two weight vectors."""
    return float(0.5 * (p - q).abs().sum())


# ----------------------------------------------------------------------------------------------
# exact laws: random vectors affine in standard normals


class Affine:
    """A basis of independent N(0, 1) variables, grown by :meth:`fresh` and compressed when large.

    A random vector ``X = c_0 + sum_i c_i w_i`` is an :class:`AffineRV` holding ``coef`` ``[1 + r, w]``
    (row 0 the constant, rows 1.. the basis variables created so far). Every live AffineRV is tracked
    (weak references) so that :meth:`compress` can rewrite them all on a smaller basis: with ``M`` the
    stacked non-constant coefficients ``[r, W]`` of all live vectors and ``M = Q R`` (QR), the new
    coefficients are R's rows, i.e. the basis ``Q^T w`` (orthonormal, so again independent N(0, 1)).
    The joint law of the live vectors is unchanged; later fresh variables stay independent of it.

    Args:
        grow: compress when the basis exceeds ``grow`` times its size after the last compression
            (and at least ``min_rows``).
    """

    def __init__(self, grow: float = 2.0, min_rows: int = 64):
        self.rank = 0
        self.grow, self.min_rows = grow, min_rows
        self._after = 0
        self._live: weakref.WeakValueDictionary[int, AffineRV] = weakref.WeakValueDictionary()
        self._ids = itertools.count()

    def _register(self, rv: AffineRV) -> None:
        rv.id = next(self._ids)
        self._live[rv.id] = rv

    def const(self, value: torch.Tensor) -> AffineRV:
        """A deterministic vector ``[w]`` as an AffineRV."""
        coef = torch.zeros(1 + self.rank, value.numel(), dtype=DTYPE)
        coef[0] = value.reshape(-1).to(DTYPE)
        return AffineRV(self, coef)

    def fresh(self, width: int) -> AffineRV:
        """``width`` new independent N(0, 1) variables, as an AffineRV (identity coefficients)."""
        if self.rank + width > max(self.min_rows, self.grow * self._after):
            self.compress()
        coef = torch.zeros(1 + self.rank + width, width, dtype=DTYPE)
        coef[1 + self.rank :] = torch.eye(width, dtype=DTYPE)
        self.rank += width
        return AffineRV(self, coef)

    def noise_sampler(self, width: int) -> Callable:
        """``noise_sampler(sigma, sigma_next)`` in k-diffusion's form, each call ``fresh(width)``."""
        return lambda sigma=None, sigma_next=None: self.fresh(width)

    def compress(self) -> None:
        """Rewrite every live AffineRV on a basis of at most their total width (QR; see the class)."""
        rvs = [self._live[i] for i in sorted(self._live.keys()) if i in self._live]
        if not rvs or self.rank == 0:
            return
        rows = 1 + self.rank
        mats = [rv._padded(rows) for rv in rvs]
        stacked = torch.cat([m[1:] for m in mats], 1)
        r = torch.linalg.qr(stacked, mode="r")[1]
        scale = float(r.abs().max()) if r.numel() else 0.0
        keep = r.abs().amax(1) > 1e-15 * scale
        r = r[keep]
        self.rank = r.shape[0]
        self._after = self.rank
        start = 0
        for rv, m in zip(rvs, mats):
            width = m.shape[1]
            rv.coef = torch.cat([m[:1], r[:, start : start + width]], 0)
            start += width


class AffineRV:
    """A random vector affine in an :class:`Affine` basis, shaped like a batch of one ``[1, w]``.

    Supports what the samplers do to their states: ``+``, ``-`` (with AffineRVs or constant tensors),
    ``*`` and ``/`` by scalars or by constant vectors ``[w]`` (element-wise), ``@`` a matrix ``[w, w']``,
    ``clone``, ``shape``, ``new_ones``. Its law: :attr:`mean` ``[w]`` and :attr:`cov` ``[w, w]``.
    """

    __slots__ = ("space", "coef", "id", "__weakref__")

    def __init__(self, space: Affine, coef: torch.Tensor):
        self.space, self.coef = space, coef
        space._register(self)

    # shape-like API used by the samplers
    @property
    def shape(self) -> torch.Size:
        return torch.Size([1, self.coef.shape[1]])

    @property
    def dtype(self) -> torch.dtype:
        return self.coef.dtype

    @property
    def device(self) -> torch.device:
        return self.coef.device

    def new_ones(self, size, **kwargs) -> torch.Tensor:
        return torch.ones(size, dtype=DTYPE)

    def clone(self) -> AffineRV:
        return AffineRV(self.space, self.coef.clone())

    @property
    def mean(self) -> torch.Tensor:
        return self.coef[0]

    @property
    def cov(self) -> torch.Tensor:
        c = self.coef[1:]
        return c.T @ c

    def _padded(self, rows: int) -> torch.Tensor:
        if self.coef.shape[0] == rows:
            return self.coef
        out = torch.zeros(rows, self.coef.shape[1], dtype=DTYPE)
        out[: self.coef.shape[0]] = self.coef
        return out

    def _add(self, other, sign: float) -> AffineRV:
        a = self.coef
        if not isinstance(other, AffineRV):  # a constant: row 0 only
            out = a.clone()
            out[0] += sign * torch.as_tensor(other, dtype=DTYPE).reshape(-1)
            return AffineRV(self.space, out)
        if other.space is not self.space:
            raise ValueError("AffineRVs of different bases")
        b = other.coef
        if a.shape[0] == b.shape[0]:
            return AffineRV(self.space, a + b if sign > 0 else a - b)
        if a.shape[0] > b.shape[0]:
            out = a.clone()
            out[: b.shape[0]] += sign * b
        else:
            out = sign * b
            out[: a.shape[0]] += a
        return AffineRV(self.space, out)

    def __add__(self, other):
        return self._add(other, 1.0)

    __radd__ = __add__

    def __sub__(self, other):
        return self._add(other, -1.0)

    def __rsub__(self, other):
        return (-self)._add(other, 1.0)

    def __neg__(self):
        return AffineRV(self.space, -self.coef)

    @staticmethod
    def _factor(other) -> torch.Tensor:
        if isinstance(other, AffineRV):
            raise TypeError("the product of two random vectors is not affine")
        t = torch.as_tensor(other, dtype=DTYPE)
        return t.reshape(()) if t.numel() == 1 else t.reshape(1, -1)

    def __mul__(self, other):
        return AffineRV(self.space, self.coef * self._factor(other))

    __rmul__ = __mul__

    def __truediv__(self, other):
        return AffineRV(self.space, self.coef / self._factor(other))

    def __matmul__(self, matrix: torch.Tensor):
        return AffineRV(self.space, self.coef @ matrix.to(DTYPE))


def cat_columns(parts: list, index: list[torch.Tensor], width: int):
    """Scatter column blocks into one ``[B, width]`` vector: ``parts[i]`` goes to the columns
    ``index[i]``; tensors or AffineRVs (not mixed)."""
    if isinstance(parts[0], AffineRV):
        space = parts[0].space
        rows = max(p.coef.shape[0] for p in parts)
        out = torch.zeros(rows, width, dtype=DTYPE)
        for p, idx in zip(parts, index):
            out[:, idx] = p._padded(rows)
        return AffineRV(space, out)
    out = torch.zeros(parts[0].shape[0], width, dtype=parts[0].dtype)
    for p, idx in zip(parts, index):
        out[:, idx] = p
    return out


def columns(x, idx: torch.Tensor):
    """``x[:, idx]`` for a tensor or an AffineRV."""
    if isinstance(x, AffineRV):
        return AffineRV(x.space, x.coef[:, idx])
    return x[:, idx]


# ----------------------------------------------------------------------------------------------
# the known-region wrappers (reduced to the unknown coordinates)


class UnknownPartDenoiser:
    """The known-region wrapper of :class:`samplers.KnownRegionDenoiser` on the unknown coordinates only.

    Before each call the known coordinates are ``y + sigma * z`` (VE), with ``z`` one noise drawn at the
    first call and reused (``fixed_noise=True``, ComfyUI's ``KSamplerX0Inpaint``; what
    :func:`samplers.sample_langevin_pc` needs) or a fresh one per call (RePaint, Algorithm 1 line 5);
    the prior's denoiser sees the full vector and the unknown part of its estimate is returned. The
    sampler's state is the unknown part ``[B, u]`` alone: the known part of KnownRegionDenoiser's state is
    overwritten before every call and in its output, so it never acts on the result.

    Args:
        prior: a :class:`GaussianPrior` or :class:`MixturePrior`; mask: bool ``[d]``; y: ``[d]`` known
            values; noise: ``noise(width) -> [B, width]`` standard normals (tensor or AffineRV);
        fixed_noise: reuse the first call's noise.
    """

    def __init__(self, prior, mask: torch.Tensor, y: torch.Tensor, noise: Callable, fixed_noise: bool):
        self.prior, self.noise, self.fixed_noise = prior, noise, fixed_noise
        self.u_idx = torch.nonzero(mask)[:, 0]
        self.k_idx = torch.nonzero(~mask)[:, 0]
        self.y_k = y[self.k_idx].to(DTYPE)
        self.d = mask.numel()
        self._z = None

    def __call__(self, x, sigma, **extra_args):
        s = float(sigma.reshape(-1)[0])
        if self._z is None or not self.fixed_noise:
            self._z = self.noise(len(self.k_idx))
        known = self._z * s + self.y_k
        if isinstance(self.prior, GaussianPrior):  # linear: by blocks, no scatter
            g, mean = self.prior.gain(s), self.prior.mean
            m_u, m_k = mean[self.u_idx], mean[self.k_idx]
            return (
                (x - m_u) @ g[self.u_idx][:, self.u_idx] + (known - m_k) @ g[self.k_idx][:, self.u_idx] + m_u
            )
        full = cat_columns([x, known], [self.u_idx, self.k_idx], self.d)
        return self.prior.denoise(full, s)[:, self.u_idx]


class DDNMDenoiser:
    """DDNM's range-null-space rule for inpainting (Wang, Yu & Zhang, ICLR 2023, "Zero-shot image
    restoration using denoising diffusion null-space model", eq. 13 with A = the known-pixel selector,
    A^+ = A^T): the model sees the sampler's full state (no re-noised known part), and the known
    coordinates of its estimate are replaced by the known values, ``x0 = A^+ y + (I - A^+ A) x0_hat``.

    Args:
        prior, mask, y: as :class:`UnknownPartDenoiser`. The state is the full ``[B, d]`` vector.
    """

    def __init__(self, prior, mask: torch.Tensor, y: torch.Tensor):
        self.prior = prior
        self.gen = mask.to(DTYPE)
        self.y_known = y.to(DTYPE) * (1.0 - self.gen)

    def __call__(self, x, sigma, **extra_args):
        s = float(sigma.reshape(-1)[0])
        return self.prior.denoise(x, s) * self.gen + self.y_known


# ----------------------------------------------------------------------------------------------
# LanPaint (moved here from bench_conditional.py, which documents it; noise injectable)


def _fld_flow(k: float, a: float, h: float, frac: float) -> tuple[list, list]:
    """Exact flow over tau in [0, frac] (tau = t / h) of one part's FLD with C = A m frozen.

    In u = q h and tau units: dx = u dtau, du = -k a (x - m) dtau - k u dtau + k sqrt(2 h) dW_tau,
    with k = Gamma h, a = A h. Stationary covariance diag(h / a, k h); transition Phi = exp(F frac);
    the step's covariance is Sigma_inf - Phi Sigma_inf Phi^T (stationary linear SDE).

    Returns:
        (Phi [2, 2], lower Cholesky factor of the step covariance [2, 2]), as nested lists of floats.
    """
    f = torch.tensor([[0.0, 1.0], [-k * a, -k]], dtype=torch.float64)
    phi = torch.linalg.matrix_exp(f * frac)
    sig = torch.diag(torch.tensor([h / a, k * h], dtype=torch.float64))
    q = sig - phi @ sig @ phi.T
    q = 0.5 * (q + q.T) + 1e-30 * torch.eye(2, dtype=torch.float64)
    return phi.tolist(), torch.linalg.cholesky(q).tolist()


def lanpaint(
    model: Callable,
    y0: torch.Tensor,
    keep: torch.Tensor,
    sigmas: torch.Tensor,
    noise: Callable[[], object],
    eps,
    n_inner: int = 5,
    lam: float = 5.0,
    eta: float = 0.2,
    friction: float = 15.0,
    beta: float = 1.0,
    outer: str = "state",
):
    """LanPaint (Zheng, Lan & Wang, TMLR 2025) as described in ``bench/bench_conditional.py``'s
    docstring (VE sampler state, VP inner dynamics).

    Args:
        model: ``(x [B, d], sigma [B]) -> x0_hat`` (VE convention); y0: known values ``[1, d]``;
        keep: ``[1, d]``, 1 = known; sigmas: decreasing ``[T + 1]`` ending at 0;
        noise: ``noise() -> z ~ N(0, I)`` shaped like the state (a tensor or an :class:`AffineRV`);
        eps: the sampling noise ``[B, d]`` (start ``sigmas[0] * eps``).
        outer: ``"state"`` (the paper's experiments, scraed/LanPaintBench): the Euler step moves the
            state after the inner iterations, the known part follows one forward-diffused path
            ``y0 + w(sigma^2)`` (w a Brownian path, drawn from the top level down as a Brownian bridge
            pinned at w(0) = 0: ``w(s') = (s'/s) w(s) + sqrt(s' (s - s') / s) z``); ``"carrier"`` (the
            ComfyUI node): the Euler step moves the sampler's own state with the denoised estimate of
            the state after the inner iterations, the known part is ``y0 + sigma * eps``.

    Returns:
        (final state with the known part set to y0, NFE).
    """
    if outer not in ("state", "carrier"):
        raise ValueError(f"outer: expected 'state' or 'carrier', got {outer!r}")
    nfe = 0
    gen = 1.0 - keep
    x = eps * float(sigmas[0])
    steps = len(sigmas) - 1
    path = eps * float(sigmas[0]) if outer == "carrier" else noise() * float(sigmas[0])
    if outer == "state":
        eps = None  # not used again (an exact law would carry it along)

    def denoise(xt, scale, s):
        nonlocal nfe
        nfe += 1
        return model(xt * scale, torch.full((1,), s, dtype=DTYPE))

    for i in range(steps):
        s, s_next = float(sigmas[i]), float(sigmas[i + 1])
        if i > 0:  # the known part's noise at this level
            if outer == "carrier":
                path = eps * s
            else:
                s_prev2, s2 = float(sigmas[i - 1]) ** 2, s * s
                path = path * (s2 / s_prev2) + noise() * math.sqrt(s2 * (s_prev2 - s2) / s_prev2)
        abar = 1.0 / (1.0 + s * s)
        scale = math.sqrt(1.0 + s * s)  # VE = VP * scale
        xt = (x * gen + (path + y0) * keep) / scale  # replace step, to VP units
        n = n_inner if i < steps - 1 else 0  # EarlyStop = 1: no inner iterations at the last step
        if n > 0:
            parts = []  # per part: (A, h, k, a) with h the step, k = Gamma h, a = A h
            for a_coef, b in ((1.0, 1.0), (1.0 + lam, beta)):
                h = eta * (1.0 - abar) * b
                big_a = a_coef / (1.0 - abar)
                parts.append((big_a, h, 5.0 * friction**2 * eta * b, big_a * h))
            ra = math.sqrt(abar)

            def target(xt, scale=scale, s=s, ra=ra):  # m = C / A per element, from the BiG score
                x0 = denoise(xt, scale, s)
                m_y = (((1.0 + lam) * ra) * y0 - x0 * (ra * lam) + xt * lam) / (1.0 + lam)
                return x0 * ra * gen + m_y * keep

            flows = {frac: [_fld_flow(k, a, h, frac) for (_, h, k, a) in parts] for frac in (0.5, 1.0)}
            k_el = parts[0][2] * gen + parts[1][2] * keep
            a_el = parts[0][3] * gen + parts[1][3] * keep
            u = noise() * (
                math.sqrt(parts[0][2] * parts[0][1]) * gen + math.sqrt(parts[1][2] * parts[1][1]) * keep
            )

            def advance(xt, u, m, frac, flows=flows):
                z0, z1 = noise(), noise()
                out = []
                for phi, chol in flows[frac]:
                    d = xt - m
                    nx = m + d * phi[0][0] + u * phi[0][1] + z0 * chol[0][0]
                    nu = d * phi[1][0] + u * phi[1][1] + z0 * chol[1][0] + z1 * chol[1][1]
                    out.append((nx, nu))
                (x_x, u_x), (x_y, u_y) = out
                return x_x * gen + x_y * keep, u_x * gen + u_y * keep

            m = target(xt)
            xt, u = advance(xt, u, m, 1.0)
            for _ in range(n - 1):
                xt, u = advance(xt, u, m, 0.5)
                m_new = target(xt)
                u = u + (m_new - m) * (k_el * a_el)
                xt, u = advance(xt, u, m, 0.5)
                m = m_new
        d = denoise(xt, scale, s) * gen + y0 * keep
        if outer == "state":
            x = xt * scale
        x = d + (x - d) * (s_next / s)  # Euler
    return x * gen + y0 * keep, nfe


def lanpaint_steps(budget: int, n_inner: int = 5) -> int:
    """Outer steps T whose NFE T (N + 1) - N is nearest to ``budget`` (the lower on a tie)."""
    return min(range(1, budget + 1), key=lambda t: (abs(t * (n_inner + 1) - n_inner - budget), t))


# ----------------------------------------------------------------------------------------------
# the family


@dataclass
class Member:
    """One prior of the family: ``name``, grid ``shape``, ``kind`` ("gaussian" or "mixture"), the
    prior, and whether it is held out from tuning."""

    name: str
    shape: tuple[int, ...]
    prior: object
    held_out: bool
    spec: dict = field(default_factory=dict)

    @property
    def kind(self) -> str:
        return "mixture" if isinstance(self.prior, MixturePrior) else "gaussian"


JITTER = 1e-2
"""Diagonal added to every kernel (a white-noise floor; keeps the smooth kernels' conditionals
well-posed and sets the smallest scale the samplers must resolve)."""

GAUSSIAN_SPECS = (
    # name, shape, kernel, length scale, held out
    ("d16-rbf2", (16,), "rbf", 2.0, False),
    ("d32-rbf4", (32,), "rbf", 4.0, False),
    ("d64-rbf2", (64,), "rbf", 2.0, False),
    ("d32-mat4", (32,), "matern12", 4.0, False),
    ("d64-mat8", (64,), "matern12", 8.0, False),
    ("d16-mat2", (16,), "matern12", 2.0, True),
    ("d128-rbf3", (128,), "rbf", 3.0, True),
    ("img8-rbf1.5", (8, 8), "rbf", 1.5, True),
)
MIXTURE_SPECS = (
    # name, shape, components, kernel length, mean scale, held out
    ("mix2-d16", (16,), 2, 3.0, 1.0, False),
    ("mix4-d16", (16,), 4, 3.0, 1.0, False),
    ("mix8-d32", (32,), 8, 4.0, 1.0, True),
)
TUNED_MASKS = ("half", "expand", "every_second", "box")
HELD_OUT_MASKS = ("random50", "band")
BENCH_MASKS = TUNED_MASKS + HELD_OUT_MASKS


def gaussian_member(name, shape, kind, length, held_out) -> Member:
    cov = kernel_matrix(shape, kind, length) + JITTER * torch.eye(math.prod(shape), dtype=DTYPE)
    spec = {"kernel": kind, "length_scale": length, "jitter": JITTER, "d": math.prod(shape)}
    return Member(name, shape, GaussianPrior(cov), held_out, spec)


def mixture_member(name, shape, comps, length, scale, held_out, seed: int = 0) -> Member:
    """Means ``scale * L z_c`` (L the kernel's Cholesky factor: smooth mean profiles) with a seeded
    generator; weights ``(c + 1) / sum`` (unequal); each component's covariance the kernel + jitter.
    With scale 1 the components overlap in the prior, their conditionals given the known values stay
    apart (a conditional sample's largest responsibility is 0.8-1.0 on average) and the exact
    conditional weights are mixed (largest 0.45-0.89 over the cases), so weights can be measured."""
    d = math.prod(shape)
    kern = kernel_matrix(shape, "rbf", length) + JITTER * torch.eye(d, dtype=DTYPE)
    g = torch.Generator().manual_seed(1000 + seed + comps)
    means = scale * torch.randn(comps, d, generator=g, dtype=DTYPE) @ torch.linalg.cholesky(kern).T
    weights = torch.arange(1, comps + 1, dtype=DTYPE)
    prior = MixturePrior(weights / weights.sum(), means, kern)
    spec = {"components": comps, "kernel": "rbf", "length_scale": length, "mean_scale": scale, "d": d}
    return Member(name, shape, prior, held_out, spec)


def family() -> list[Member]:
    """Every member of the family, in a fixed order."""
    out = [gaussian_member(*s) for s in GAUSSIAN_SPECS]
    out += [mixture_member(*s) for s in MIXTURE_SPECS]
    return out


@dataclass
class Case:
    """One member under one mask with its known values ``y`` and the exact conditional."""

    member: Member
    mask_name: str
    mask: torch.Tensor
    y: torch.Tensor
    truth: tuple

    @property
    def name(self) -> str:
        return f"{self.member.name}/{self.mask_name}"

    @property
    def held_out(self) -> bool:
        return self.member.held_out or self.mask_name in HELD_OUT_MASKS

    @property
    def spread(self) -> float:
        """sqrt(trace) of the exact conditional's covariance (mixtures: of the mixture's covariance)."""
        if self.member.kind == "gaussian":
            return float(torch.trace(self.truth[1]).sqrt())
        w, mu, cov = self.truth
        mbar = w @ mu
        tot = torch.trace(cov) + (w * ((mu - mbar) ** 2).sum(1)).sum()
        return float(tot.sqrt())


def make_case(member: Member, mask_name: str, seed: int = 0) -> Case:
    """The known values: one prior draw (seeded ``seed``; mixtures: the first of the seeded draws whose
    exact conditional gives no component more than 0.9 of the weight, so that the weights matter)."""
    mask = family_mask(mask_name, member.shape, seed)
    g = torch.Generator().manual_seed(seed)
    if member.kind == "gaussian":
        y = member.prior.sample(1, g)[0]
        return Case(member, mask_name, mask, y, member.prior.conditional(mask, y))
    for _ in range(200):
        y = member.prior.sample(1, g)[0][0]
        truth = member.prior.conditional(mask, y)
        if float(truth[0].max()) <= 0.9:
            break
    return Case(member, mask_name, mask, y, truth)


def cases(members: list[Member] | None = None, masks=MASKS, seed: int = 0) -> list[Case]:
    return [make_case(m, k, seed) for m in (members or family()) for k in masks]


def environment() -> dict:
    """Versions and CPU flags, recorded in every result file."""
    flags = []
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    flags = sorted(line.split(":", 1)[1].split())
                    break
    except OSError:
        pass
    wanted = ("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512_vnni", "amx_tile")
    return {
        "torch": torch.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "processor": platform.processor(),
        "cpu_flags": [f for f in wanted if f in flags],
        "torch_cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "mkl": torch.backends.mkl.is_available(),
        "MKL_ENABLE_INSTRUCTIONS": os.environ.get("MKL_ENABLE_INSTRUCTIONS"),
        "threads": torch.get_num_threads(),
    }


# ----------------------------------------------------------------------------------------------
# the samplers at a budget


@dataclass
class Run:
    """How a sampler is run: ``exact`` (an :class:`Affine` law) or ``n`` samples from ``seed``."""

    exact: bool = True
    n: int = 0
    seed: int = 0

    def setup(self, width: int):
        """(``start(scale)``: the starting state ``scale * z``, ``z`` standard normal ``[B, width]``;
        ``noise(width)``; the state's ``noise_sampler``). ``start`` is called in the sampler's argument
        list, so that no caller frame keeps the starting state alive (it would widen compressions)."""
        if self.exact:
            space = Affine()
            return (lambda scale: space.fresh(width) * scale), space.fresh, space.noise_sampler(width)
        g = torch.Generator().manual_seed(self.seed)

        def noise(w):
            return torch.randn(self.n, w, generator=g, dtype=DTYPE)

        return (lambda scale: noise(width) * scale), noise, lambda sigma=None, sigma_next=None: noise(width)


def ours_steps(budget: int, corrector_steps: int) -> int:
    """Largest T with ``T + c (T - 1) <= budget`` model calls (c = ``corrector_steps``)."""
    return max(2, (budget + corrector_steps) // (corrector_steps + 1))


LANGEVIN_POWER = 3.0
"""Power Scheduler (RePaint)'s power for the Langevin Inpaint Sampler: chosen on this benchmark's tuned
part by the worst case (``python -m bench.bench_family tune``, ``bench/results/family_tune.log``):
worst W2 / spread at 50 / 100 / 230 NFE 85.7 / 27.5 / 11.2 % against 130.6 / 35.5 / 13.9 % for 2.5."""


def run_ours(case: Case, budget: int, run: Run, *, power: float = LANGEVIN_POWER, **options):
    """The Langevin Inpaint Sampler (:func:`samplers.sample_langevin_pc`, its own defaults unless
    ``options`` say otherwise: ``corrector_steps``, ``step_size``, ``friction``, ``eta``) over
    :func:`ours_steps` levels of a power schedule, known part re-noised with one fixed noise.
    Returns (output ``[B, u]``, NFE)."""
    import inspect

    from repaint_extend.samplers import langevin_nfe, sample_langevin_pc

    corrector_steps = options.get(
        "corrector_steps", inspect.signature(sample_langevin_pc).parameters["corrector_steps"].default
    )
    u = int(case.mask.sum())
    z, noise, sampler = run.setup(u)
    model = UnknownPartDenoiser(case.member.prior, case.mask, case.y, noise, fixed_noise=True)
    sig = power_sigmas(ours_steps(budget, corrector_steps), power)
    out = sample_langevin_pc(model, z(float(sig[0])), sig, disable=True, noise_sampler=sampler, **options)
    return out, langevin_nfe(sig, corrector_steps)


@functools.cache
def repaint_nfe(steps: int, j: int, r: int, start: float = 0.0) -> int:
    from repaint_extend.samplers import jump_schedule, schedule_moves

    walk = jump_schedule(steps, j, r, start, 1.0)
    return sum(1 for a, b in schedule_moves(walk) if b < a)


@functools.cache
def repaint_paper_spec(budget: int) -> tuple[int, int, int]:
    """RePaint's paper shape at a budget: r = 10, jump_length j = max(1, round(T / 25)) (the paper's
    (250, 10, 10) at T = 250), T with the NFE nearest to ``budget`` (ties: the lower T)."""
    best = None
    for steps in range(2, 400):
        j = max(1, round(steps / 25))
        if j >= steps:
            continue
        nfe = repaint_nfe(steps, j, 10)
        if best is None or abs(nfe - budget) < abs(best[1] - budget):
            best = ((steps, j, 10), nfe)
    return best[0]


@functools.cache
def repaint_power_spec(budget: int) -> tuple[int, int, int]:
    """The pack's RePaint with Power Scheduler 2.5 (the 460-NFE configuration): (T, 5, r) resampling at progress >= 0.5,
    T = min(50, budget), r with the NFE nearest to ``budget``."""
    steps = min(50, budget)
    r = min(range(1, 200), key=lambda r: (abs(repaint_nfe(steps, 5, r, 0.5) - budget), r))
    return steps, 5, r


def _repaint(case, run, sig, j, r, start=0.0, eta=1.0, ddnm=False):
    from repaint_extend.samplers import sample_repaint

    if ddnm:
        z, noise, sampler = run.setup(case.member.prior.d)
        model = DDNMDenoiser(case.member.prior, case.mask, case.y)
    else:
        z, noise, sampler = run.setup(int(case.mask.sum()))
        model = UnknownPartDenoiser(case.member.prior, case.mask, case.y, noise, fixed_noise=False)
    out = sample_repaint(
        model,
        z(float(sig[0])),
        sig,
        disable=True,
        jump_length=j,
        jump_n_sample=r,
        eta=eta,
        start_percent=start,
        noise_sampler=sampler,
    )
    return (columns(out, torch.nonzero(case.mask)[:, 0]) if ddnm else out), repaint_nfe(
        len(sig) - 1, j, r, start
    )


def run_repaint(case: Case, budget: int, run: Run):
    """RePaint (Lugmayr et al. 2022) in the paper's shape (:func:`repaint_paper_spec`), linear schedule."""
    steps, j, r = repaint_paper_spec(budget)
    return _repaint(case, run, linear_sigmas(steps), j, r)


def run_repaint_power(case: Case, budget: int, run: Run):
    """RePaint with Power Scheduler 2.5, resampling in the second half (:func:`repaint_power_spec`)."""
    steps, j, r = repaint_power_spec(budget)
    return _repaint(case, run, power_sigmas(steps, 2.5), j, r, start=0.5)


def run_plain(case: Case, budget: int, run: Run):
    """Plain replacement: ``budget`` DDPM steps (linear schedule), known part re-noised afresh."""
    return _repaint(case, run, linear_sigmas(budget), 1, 1)


def run_ddnm(case: Case, budget: int, run: Run, eta: float = 0.85):
    """DDNM-style (:class:`DDNMDenoiser`): ``budget`` steps of the linear schedule, eta 0.85 (the DDNM
    paper's default)."""
    return _repaint(case, run, linear_sigmas(budget), 1, 1, eta=eta, ddnm=True)


def run_lanpaint(case: Case, budget: int, run: Run, outer: str = "state", **kw):
    """LanPaint (:func:`lanpaint`) with its node's defaults on ``lanpaint_steps`` levels, linear schedule."""
    prior = case.member.prior
    z, noise, _ = run.setup(prior.d)
    keep = (~case.mask).to(DTYPE)[None]
    y0 = case.y.to(DTYPE)[None] * keep
    sig = linear_sigmas(lanpaint_steps(budget))

    def model(x, sigma):
        return prior.denoise(x, float(sigma.reshape(-1)[0]))

    out, nfe = lanpaint(model, y0, keep, sig, lambda: noise(prior.d), z(1.0), outer=outer, **kw)
    return columns(out, torch.nonzero(case.mask)[:, 0]), nfe


SAMPLERS: dict[str, Callable] = {
    "ours": run_ours,
    "repaint": run_repaint,
    "repaint_power": run_repaint_power,
    "lanpaint": run_lanpaint,
    "ddnm": run_ddnm,
    "plain": run_plain,
}
