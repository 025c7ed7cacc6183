"""RePaint's jump schedule: reference counts, the NFE formula, windows, and bad input."""

import math

import pytest

from repaint_extend.samplers import jump_schedule, schedule_moves, schedule_nfe


def _counts(schedule):
    steps = list(zip(schedule[:-1], schedule[1:]))
    down = sum(1 for a, b in steps if b < a)
    return len(schedule), down, len(steps) - down


def test_reference_counts_250_10_10():
    schedule = jump_schedule(250, 10, 10)
    assert _counts(schedule) == (4571, 2410, 2160)
    assert schedule[0] == 249 and schedule[-1] == -1


@pytest.mark.parametrize(
    "steps, j, r",
    [(250, 10, 10), (100, 10, 5), (50, 5, 5), (20, 3, 2), (17, 4, 3), (10, 9, 2), (5, 1, 4), (30, 10, 1)],
)
def test_nfe_formula_and_walk(steps, j, r):
    schedule = jump_schedule(steps, j, r)
    entries, down, up = _counts(schedule)
    expected = steps + (r - 1) * j * math.ceil((steps - j) / j) if r > 1 else steps
    assert down == expected == schedule_nfe(steps, j, r)
    assert down - up == steps  # net walk from steps-1 to -1
    assert all(abs(b - a) == 1 for a, b in zip(schedule, schedule[1:]))
    assert max(schedule) == steps - 1 and min(schedule) == -1


def test_jumps_go_back_jump_length_and_repeat_r_minus_1_times():
    moves = schedule_moves(jump_schedule(20, 5, 3))
    jumps = [(a, b) for a, b in moves if b > a]
    # jump points 0, 5, 10 (t < T - j = 15), each jumped from twice, each jump j = 5 long
    assert sorted(jumps) == sorted([(0, 5), (5, 10), (10, 15)] * 2)


def test_window_limits_resampling():
    full = jump_schedule(100, 10, 5)
    late = jump_schedule(100, 10, 5, start_percent=0.5)
    none = jump_schedule(100, 10, 5, start_percent=1.0, end_percent=1.0)
    jumps = lambda s: [a for a, b in schedule_moves(s) if b > a]  # noqa: E731
    assert len(jumps(late)) < len(jumps(full))
    assert all(t < 50 for t in jumps(late))  # only the second half of sampling resamples
    assert jumps(none) == [] and _counts(none)[1] == 100


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(steps=10, jump_length=10, jump_n_sample=2), "jump_length"),
        (dict(steps=10, jump_length=12, jump_n_sample=2), "jump_length"),
        (dict(steps=10, jump_length=3, jump_n_sample=0), "jump_n_sample"),
        (dict(steps=0, jump_length=3, jump_n_sample=2), "steps"),
        (dict(steps=10, jump_length=0, jump_n_sample=2), "jump_length"),
        (dict(steps=10, jump_length=3, jump_n_sample=2, start_percent=0.8, end_percent=0.2), "start_percent"),
    ],
)
def test_bad_parameters_name_the_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        jump_schedule(**kwargs)


def test_type_errors():
    with pytest.raises(TypeError, match="steps"):
        jump_schedule(10.0, 3, 2)


def test_no_resampling_is_a_plain_walk():
    assert jump_schedule(5, 10, 1) == [4, 3, 2, 1, 0, -1]


def test_power_timesteps_place_more_steps_at_low_noise():
    from repaint_extend.samplers import power_timesteps

    even = power_timesteps(11, 1.0, 1000.0)
    assert even == pytest.approx([1000.0 - 100.0 * k for k in range(11)])
    steep = power_timesteps(11, 2.5, 999.0)
    assert steep[0] == 999.0 and steep[-1] == 0.0
    assert all(a > b for a, b in zip(steep, steep[1:]))
    assert sum(t < 250 for t in steep) > sum(t < 250 for t in even)  # more steps at low noise
    with pytest.raises(ValueError, match="power"):
        power_timesteps(10, 0.0)
    with pytest.raises(ValueError, match="steps"):
        power_timesteps(1, 2.0)


def test_power_sigmas_map_the_timesteps_and_close_at_zero():
    from repaint_extend.samplers import power_sigmas, power_timesteps

    def ddpm(ts):  # sigma(0) > 0, as a DDPM's sigma_min
        return [0.03 + t / 100 for t in ts]

    def flow(ts):  # sigma(0) = 0
        return [t / 1000 for t in ts]

    timesteps = power_timesteps(5, 2.0, 999.0)
    assert power_sigmas(5, 2.0, ddpm, 999.0) == [0.03 + t / 100 for t in timesteps] + [0.0]
    assert power_sigmas(5, 2.0, flow, 999.0) == [t / 1000 for t in timesteps]
    assert power_sigmas(5, 1.0, flow, 999.0) != power_sigmas(5, 2.0, flow, 999.0)
    with pytest.raises(ValueError, match="power"):
        power_sigmas(5, -1.0, flow, 999.0)


def test_check_sigmas_accepts_a_schedule_and_names_the_input_otherwise():
    from repaint_extend.samplers import check_sigmas

    assert check_sigmas([14.6, 1.0, 0.0]) == [14.6, 1.0, 0.0]
    assert check_sigmas([1.0, 1.0, 0.0]) == [1.0, 1.0, 0.0]  # a repeated level is a zero step
    for bad, match in (([1.0], "at least 2"), ([1.0, 2.0, 0.0], "must not increase"), ([1.0, -0.1], ">= 0")):
        with pytest.raises(ValueError, match=f"my_sigmas.*{match}"):
            check_sigmas(bad, "my_sigmas")
    with pytest.raises(ValueError, match="finite"):
        check_sigmas([float("nan"), 0.0])


def test_partial_start_keeps_the_steps_at_or_below_the_start_sigma():
    from repaint_extend.samplers import partial_start

    sigmas = [10.0, 5.0, 2.0, 1.0, 0.5, 0.0]
    assert partial_start(sigmas, 10.0) == 0
    assert partial_start(sigmas, 9.99) == 1
    assert partial_start(sigmas, 2.0) == 2  # at: kept
    assert partial_start(sigmas, 0.7) == 4  # 0.5 -> 0.0 is the one step left
    with pytest.raises(ValueError, match="no step"):
        partial_start(sigmas, 0.4)  # only 0.0 left: no step
