"""The family benchmark's maths (bench/family.py, issue 21): distances with known answers, exact
denoisers and conditionals against their definitions, the exact-law engine against samples of the
samplers' own code, and the same figures under two MKL instruction sets."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch.distributions import MultivariateNormal

from bench import family as F

ROOT = Path(__file__).resolve().parents[2]
D = torch.float64


def _rotation(n: int, seed: int) -> torch.Tensor:
    q, _ = torch.linalg.qr(torch.randn(n, n, generator=torch.Generator().manual_seed(seed), dtype=D))
    return q


def test_w2_gaussian_known_answers():
    """Commuting covariances: W2^2 = |m1 - m2|^2 + sum (sqrt a_i - sqrt b_i)^2 (Givens & Shortt 1984)."""
    q = _rotation(6, 0)
    a = torch.tensor([0.1, 0.5, 1.0, 2.0, 3.0, 9.0], dtype=D)
    b = torch.tensor([0.4, 0.5, 4.0, 1.0, 1.0, 1.0], dtype=D)
    m1, m2 = torch.arange(6, dtype=D), torch.ones(6, dtype=D)
    c1, c2 = q @ torch.diag(a) @ q.T, q @ torch.diag(b) @ q.T
    want = math.sqrt(float(((m1 - m2) ** 2).sum() + ((a.sqrt() - b.sqrt()) ** 2).sum()))
    assert F.w2_gaussian(m1, c1, m2, c2) == pytest.approx(want, rel=1e-12)
    assert F.w2_gaussian(m2, c2, m1, c1) == pytest.approx(want, rel=1e-12)
    assert F.w2_gaussian(m1, c1, m1, c1) < 1e-6
    # 1-D: |m1 - m2|^2 + (s1 - s2)^2
    assert F.w2_gaussian(
        torch.tensor([1.0], dtype=D),
        torch.tensor([[4.0]], dtype=D),
        torch.tensor([0.0], dtype=D),
        torch.tensor([[1.0]], dtype=D),
    ) == pytest.approx(math.sqrt(2.0), rel=1e-12)


def test_w2_gaussian_non_commuting_against_sqrtm():
    """Against the definition with matrix square roots (computed here by Newton-Schulz iteration)."""

    def sqrtm(a):  # Higham 2008, "Functions of matrices", eq. 6.35 (coupled Newton-Schulz)
        norm = torch.linalg.matrix_norm(a)
        y, z = a / norm, torch.eye(len(a), dtype=D)
        for _ in range(60):
            t = 0.5 * (3.0 * torch.eye(len(a), dtype=D) - z @ y)
            y, z = y @ t, t @ z
        return y * norm.sqrt()

    g = torch.Generator().manual_seed(3)
    x1, x2 = torch.randn(5, 5, generator=g, dtype=D), torch.randn(5, 5, generator=g, dtype=D)
    c1, c2 = x1 @ x1.T + 0.1 * torch.eye(5, dtype=D), x2 @ x2.T + 0.2 * torch.eye(5, dtype=D)
    r2 = sqrtm(c2)
    want = math.sqrt(float(torch.trace(c1 + c2 - 2 * sqrtm(r2 @ c1 @ r2))))
    zero = torch.zeros(5, dtype=D)
    assert F.w2_gaussian(zero, c1, zero, c2) == pytest.approx(want, rel=1e-9)


def test_gaussian_prior_denoiser_and_conditional_match_their_definitions():
    member = next(m for m in F.family() if m.name == "d16-mat2")
    prior = member.prior
    s = 0.7
    want_gain = prior.cov @ torch.linalg.inv(prior.cov + s * s * torch.eye(16, dtype=D))
    assert torch.allclose(prior.gain(s), want_gain, atol=1e-12)
    case = F.make_case(member, "box")
    u, k = case.mask, ~case.mask
    inv = torch.linalg.inv(prior.cov[k][:, k])
    mean = prior.cov[u][:, k] @ inv @ case.y[k]
    cov = prior.cov[u][:, u] - prior.cov[u][:, k] @ inv @ prior.cov[k][:, u]
    assert torch.allclose(case.truth[0], mean, atol=1e-10) and torch.allclose(case.truth[1], cov, atol=1e-10)
    assert case.y.shape == (16,) and case.spread == pytest.approx(float(torch.trace(cov).sqrt()))


def test_mixture_denoiser_and_conditional_match_bayes():
    member = next(m for m in F.family() if m.name == "mix4-d16")
    prior = member.prior
    s = 0.9
    x = torch.randn(3, 16, generator=torch.Generator().manual_seed(1), dtype=D)
    noisy = [MultivariateNormal(mu, prior.cov + s * s * torch.eye(16, dtype=D)) for mu in prior.means]
    logw = torch.stack([d.log_prob(x) for d in noisy], 1) + prior.weights.log()
    w = torch.softmax(logw, 1)
    g = prior.base.gain(s)
    want = sum(w[:, c : c + 1] * (prior.means[c] + (x - prior.means[c]) @ g) for c in range(4))
    assert torch.allclose(prior.denoise(x, s), want, atol=1e-10)
    case = F.make_case(member, "half")
    k = ~case.mask
    lw = (
        torch.stack([MultivariateNormal(mu[k], prior.cov[k][:, k]).log_prob(case.y[k]) for mu in prior.means])
        + prior.weights.log()
    )
    assert torch.allclose(case.truth[0], torch.softmax(lw, 0), atol=1e-10)
    assert float(case.truth[0].max()) <= 0.9  # the weights are not trivial


def test_masks():
    assert F.family_mask("half", (16,)).tolist() == [True] * 8 + [False] * 8
    assert F.family_mask("every_second", (8,)).tolist() == [False, True] * 4
    assert F.family_mask("band", (8,)).tolist() == [False] * 6 + [True] * 2
    assert F.family_mask("box", (16,)).nonzero()[:, 0].tolist() == [6, 7, 8, 9]
    r = F.family_mask("random50", (32,), seed=2)
    assert int(r.sum()) == 16 and torch.equal(r, F.family_mask("random50", (32,), seed=2))
    assert not torch.equal(r, F.family_mask("random50", (32,), seed=3))
    from repaint_extend.samplers import repaint_mask

    for ours, theirs in (("half", "half"), ("expand", "expand"), ("every_second", "every_second_line")):
        assert torch.equal(F.family_mask(ours, (8, 8)), repaint_mask(theirs, 8, 8)[0].reshape(-1) > 0.5)
    with pytest.raises(ValueError, match="mask must be one of"):
        F.family_mask("nope", (8,))


def test_affine_compression_keeps_the_joint_law():
    space = F.Affine(min_rows=10**9)
    a = space.fresh(3)
    b = a * 2.0 + space.fresh(3) - 1.0
    c = b @ torch.ones(3, 2, dtype=D)
    before = [(v.mean.clone(), v.cov.clone()) for v in (a, b, c)]
    rows = 1 + space.rank
    joint_before = torch.cat([v._padded(rows)[1:] for v in (a, b, c)], 1)
    space.compress()
    assert space.rank <= 6
    for v, (m, cv) in zip((a, b, c), before):
        assert torch.allclose(v.mean, m) and torch.allclose(v.cov, cv, atol=1e-12)
    joint = torch.cat([a.coef[1:], b.coef[1:], c.coef[1:]], 1)
    assert torch.allclose(joint.T @ joint, joint_before.T @ joint_before, atol=1e-12)
    with pytest.raises(TypeError):
        a * b


@pytest.mark.parametrize("sampler", ["ours", "repaint", "lanpaint", "ddnm"])
def test_exact_law_matches_samples_of_the_same_code(sampler):
    """The exact law of a sampler's output against 4,000 samples of the same function: means within
    5 standard errors, covariances within 5 % of the spread (the engine is exact; this would fail if a
    noise were reused or dropped)."""
    case = F.make_case(next(m for m in F.family() if m.name == "d16-rbf2"), "random50")
    law, nfe = F.SAMPLERS[sampler](case, 20, F.Run())
    smp, nfe2 = F.SAMPLERS[sampler](case, 20, F.Run(False, 4000, 5))
    assert nfe == nfe2 and 15 <= nfe <= 25
    se = (law.cov.diagonal() / 4000).sqrt()
    assert float(((smp.mean(0) - law.mean).abs() / se).max()) < 5.0
    emp = torch.cov(smp.T)
    assert float((emp - law.cov).abs().max()) < 0.05 * float(torch.trace(law.cov))
    assert F.w2_gaussian(smp.mean(0), emp, law.mean, law.cov) < 0.1 * case.spread


def test_exact_law_is_independent_of_the_compression_schedule():
    case = F.make_case(next(m for m in F.family() if m.name == "d16-rbf2"), "half")
    out_a, _ = F.run_ours(case, 50, F.Run())
    F_affine = F.Affine

    class NoCompression(F_affine):
        def __init__(self):
            super().__init__(min_rows=10**9)

    F.Affine = NoCompression
    try:
        out_b, _ = F.run_ours(case, 50, F.Run())
    finally:
        F.Affine = F_affine
    assert out_b.space.rank > 4 * out_a.space.rank
    assert torch.allclose(out_a.mean, out_b.mean, atol=1e-10)
    assert torch.allclose(out_a.cov, out_b.cov, atol=1e-10)


def test_unknown_part_wrapper_equals_known_region_denoiser():
    """The reduced wrapper gives the unknown part of the core's KnownRegionDenoiser (same noise)."""
    from repaint_extend.samplers import KnownRegionDenoiser

    case = F.make_case(next(m for m in F.family() if m.name == "d32-mat4"), "box")
    prior, mask = case.member.prior, case.mask
    z = torch.randn(4, 32, generator=torch.Generator().manual_seed(0), dtype=D)
    x = torch.randn(4, 32, generator=torch.Generator().manual_seed(1), dtype=D)
    core = KnownRegionDenoiser(
        lambda x, s: prior.denoise(x, float(s[0])), case.y[None], mask.to(D)[None], fixed_noise=True
    )
    core._draw = lambda sigma, nxt: z
    sig = torch.full((4,), 1.3, dtype=D)
    ours = F.UnknownPartDenoiser(prior, mask, case.y, lambda w: z[:, ~mask], fixed_noise=True)
    assert torch.allclose(core(x, sig)[:, mask], ours(x[:, mask], sig), atol=1e-12)


def test_same_figures_under_two_mkl_instruction_sets(tmp_path):
    """The quick slice in two processes, MKL_ENABLE_INSTRUCTIONS=SSE4_2 with torch's own kernels at
    ATEN_CPU_CAPABILITY=default, and AVX2 with avx2: every figure equal to 1e-9."""
    procs = []
    for isa, cap in (("SSE4_2", "default"), ("AVX2", "avx2")):
        env = {
            **os.environ,
            "MKL_ENABLE_INSTRUCTIONS": isa,
            "ATEN_CPU_CAPABILITY": cap,
            "OMP_NUM_THREADS": "1",
        }
        cmd = [
            sys.executable,
            "-m",
            "bench.bench_family",
            "--quick",
            "--jobs",
            "1",
            "--out",
            str(tmp_path / isa),
        ]
        procs.append(
            subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        )
    outs = [p.communicate(timeout=300)[0].decode() for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    res = [json.loads((tmp_path / isa / "family_quick.json").read_text()) for isa in ("SSE4_2", "AVX2")]
    assert [r["environment"]["MKL_ENABLE_INSTRUCTIONS"] for r in res] == ["SSE4_2", "AVX2"]
    assert [r["environment"]["torch_cpu_capability"] for r in res] == ["DEFAULT", "AVX2"]
    assert res[0]["environment"]["cpu_flags"] and res[0]["environment"]["torch"] == torch.__version__
    a, b = res[0]["rows"], res[1]["rows"]
    assert len(a) == len(b) >= 12
    for ra, rb in zip(a, b):
        for key in ("rel_w2", "w2", "weight_tv", "sliced_w2"):
            if key in ra:
                assert ra[key] == pytest.approx(rb[key], abs=1e-9, rel=0), (ra, rb)
