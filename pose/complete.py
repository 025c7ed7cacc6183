"""Complete the skeleton beyond the frame: infer missing knees, ankles and feet.

Anthropometric model
--------------------
Segment lengths as fractions of body height H, from the table of Drillis & Contini (1966),
"Body segment parameters", Report 1166-03, Office of Vocational Rehabilitation, New York
University, as reproduced in D. A. Winter, *Biomechanics and Motor Control of Human Movement*,
4th ed., Wiley 2009, Fig. 4.1 ("Body segment lengths expressed as a fraction of body height H"):

===============================  =======  ==============================================
quantity                          x H      used for
===============================  =======  ==============================================
shoulder (acromion) height        0.818    torso = 0.818 - 0.530 = 0.288 H
hip (greater trochanter) height   0.530    torso; thigh
knee height                       0.285    thigh = 0.530 - 0.285 = 0.245 H
ankle (malleolus) height          0.039    shank = 0.285 - 0.039 = 0.246 H; floor below ankle
foot length                       0.152    heel / toe placement
foot width                        0.055    small-toe lateral offset
shoulder width                    0.259    H from shoulders when the hips are missing
hip width                         0.191    hip spacing from shoulder spacing (0.191/0.259)
===============================  =======  ==============================================

So, relative to the torso (shoulder midpoint to hip midpoint, 0.288 H): thigh 0.851, shank 0.854,
foot 0.528. The torso is measured in the image (2-D projection), so the model assumes the legs lie
roughly in the image plane, like the torso. Foot points: the heel lies about 1/4 of the foot
length behind the ankle and the toe tips about 3/4 ahead of it (Winter's figure puts the ankle
joint over the back quarter of the foot); the small-toe tip is taken 0.8 of the foot length from
the heel, offset outward by about one foot width.

Inferred points are present points (confidence 1.0, so controlnet_aux and comfyui_controlnet_aux
draw them: their decoder drops confidence < 1.0) and are listed in the person's
``"inferred_keypoints"`` (see :mod:`pose.keypoints`).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping, Sequence

import numpy as np

from .keypoints import (
    INFERRED_KEY,
    KP,
    N_POINTS,
    PRIOR_KEY,
    _flat_triplets,
    inferred_indices,
    person_points,
    set_person_points,
    validate_frame,
)

# Drillis & Contini (1966) via Winter (2009), Fig. 4.1: fractions of body height H.
SHOULDER_HEIGHT = 0.818
HIP_HEIGHT = 0.530
KNEE_HEIGHT = 0.285
ANKLE_HEIGHT = 0.039
FOOT_LENGTH = 0.152
FOOT_WIDTH = 0.055
SHOULDER_WIDTH = 0.259
HIP_WIDTH = 0.191
TORSO = SHOULDER_HEIGHT - HIP_HEIGHT  # 0.288 H, shoulder to hip (vertical)
THIGH = HIP_HEIGHT - KNEE_HEIGHT  # 0.245 H
SHANK = KNEE_HEIGHT - ANKLE_HEIGHT  # 0.246 H
HEEL_BACK = 0.25 * FOOT_LENGTH  # heel behind the ankle
TOE_FORWARD = 0.75 * FOOT_LENGTH  # big-toe tip ahead of the ankle

# Plausibility of a detector's own out-of-frame guess (a "prior"): segment length within this
# factor range of the anthropometric length, direction within this angle of straight down.
PRIOR_LENGTH_RANGE = (0.7, 1.3)
PRIOR_MAX_ANGLE_DEG = 45.0
# An observed thigh is trusted for the shank length when within this range of the model's.
OBSERVED_THIGH_RANGE = (0.6, 1.4)

STANCES = ("straight", "follow_thighs")
DOWN = np.array([0.0, 1.0])

_LEGS = {
    side: {
        "hip": KP[f"{side}_hip"],
        "knee": KP[f"{side}_knee"],
        "ankle": KP[f"{side}_ankle"],
        "big": KP[f"{side}_big_toe"],
        "small": KP[f"{side}_small_toe"],
        "heel": KP[f"{side}_heel"],
        "shoulder": KP[f"{side}_shoulder"],
    }
    for side in ("left", "right")
}


def small_toe_from(heel: np.ndarray, big_toe: np.ndarray, outward: float) -> np.ndarray:
    """Estimate the small-toe tip (pixels) from heel and big-toe tip.

    ``heel + 0.8 (big_toe - heel)`` shifted outward (``outward`` = +1 towards +x, -1 towards -x)
    by ``FOOT_WIDTH / FOOT_LENGTH`` (0.36, Winter Fig. 4.1) x 0.8 of the heel-to-toe distance.
    Returns float64 ``[2]``.
    """
    heel = np.asarray(heel, dtype=np.float64)
    v = np.asarray(big_toe, dtype=np.float64) - heel
    length = float(np.hypot(*v))
    lateral = (FOOT_WIDTH / FOOT_LENGTH) * 0.8 * length
    return heel + 0.8 * v + np.array([float(np.sign(outward) or 1.0) * lateral, 0.0])


def _unit(v: np.ndarray) -> np.ndarray:
    n = float(np.hypot(*v))
    return v / n if n > 1e-9 else DOWN.copy()


def _angle_to_down_deg(v: np.ndarray) -> float:
    u = _unit(v)
    return math.degrees(math.acos(max(-1.0, min(1.0, float(u @ DOWN)))))


def _plausible(parent: np.ndarray, point: np.ndarray, expected: float) -> bool:
    v = point - parent
    length = float(np.hypot(*v))
    lo, hi = PRIOR_LENGTH_RANGE
    return lo * expected <= length <= hi * expected and _angle_to_down_deg(v) <= PRIOR_MAX_ANGLE_DEG


def body_scale(points: np.ndarray) -> dict | None:
    """Torso geometry of one person from ``[24, 3]`` points, or None if too little is visible.

    Returns a dict with ``H`` (estimated body height, px), ``torso`` (px), ``shoulder_mid``,
    ``hip_mid`` (px ``[2]``), ``facing`` (0 = profile .. 1 = frontal, from the shoulder width
    relative to 0.259 H) and ``forward`` (+1/-1: image direction the person faces in profile,
    from nose vs. neck; +1 if unknown).
    """
    p = points
    has = p[:, 2] > 0
    rs, ls, neck = KP["right_shoulder"], KP["left_shoulder"], KP["neck"]
    rh, lh = KP["right_hip"], KP["left_hip"]
    if has[rs] and has[ls]:
        sh_mid = (p[rs, :2] + p[ls, :2]) / 2
    elif has[neck]:
        sh_mid = p[neck, :2].copy()
    else:
        return None
    if not (has[rh] and has[lh]):
        return None
    hip_mid = (p[rh, :2] + p[lh, :2]) / 2
    torso = float(np.hypot(*(hip_mid - sh_mid)))
    if torso < 1e-6:
        return None
    H = torso / TORSO
    facing = 1.0
    if has[rs] and has[ls]:
        facing = min(1.0, float(np.hypot(*(p[rs, :2] - p[ls, :2]))) / (SHOULDER_WIDTH * H))
    forward = 1.0
    if has[KP["nose"]]:
        forward = float(np.sign(p[KP["nose"], 0] - sh_mid[0]) or 1.0)
    return {
        "H": H,
        "torso": torso,
        "shoulder_mid": sh_mid,
        "hip_mid": hip_mid,
        "facing": facing,
        "forward": forward,
    }


def _fill_hips(p: np.ndarray, inferred: set[int]) -> None:
    """Infer missing hips from the shoulders (in place on the working copy)."""
    has = p[:, 2] > 0
    rs, ls, rh, lh = KP["right_shoulder"], KP["left_shoulder"], KP["right_hip"], KP["left_hip"]
    if not (has[rs] and has[ls]) or (has[rh] and has[lh]):
        return
    sh_vec = p[ls, :2] - p[rs, :2]  # right shoulder -> left shoulder
    hip_vec = sh_vec * (HIP_WIDTH / SHOULDER_WIDTH)
    if has[rh] != has[lh]:
        if has[rh]:
            p[lh] = (*(p[rh, :2] + hip_vec), 1.0)
            inferred.add(lh)
        else:
            p[rh] = (*(p[lh, :2] - hip_vec), 1.0)
            inferred.add(rh)
        return
    sw = float(np.hypot(*sh_vec))
    if sw < 1e-6:
        return
    H = sw / SHOULDER_WIDTH
    sh_mid = (p[rs, :2] + p[ls, :2]) / 2
    hip_mid = sh_mid + DOWN * TORSO * H
    p[rh] = (*(hip_mid - hip_vec / 2), 1.0)
    p[lh] = (*(hip_mid + hip_vec / 2), 1.0)
    inferred.update((rh, lh))


def _foot_offsets(geo: dict, outward: float) -> dict[str, np.ndarray]:
    """Heel / big toe / small toe offsets from the ankle (px), for a person standing on level
    ground, blended between frontal and profile views by ``geo['facing']``."""
    H, f, fwd = geo["H"], geo["facing"], geo["forward"]
    side = math.sqrt(max(0.0, 1.0 - f * f))  # how much the foot length shows horizontally
    floor = ANKLE_HEIGHT * H
    # In a frontal view the toes are nearer the camera and appear a little lower than the heel;
    # 0.15 x the forward length approximates that perspective drop for a camera at hip height
    # about 3 H away (an assumption, documented as such).
    drop = 0.15 * f
    return {
        "heel": np.array([-fwd * side * HEEL_BACK * H, floor - drop * HEEL_BACK * H]),
        "big": np.array(
            [
                fwd * side * TOE_FORWARD * H + outward * f * 0.1 * FOOT_WIDTH * H,
                floor + drop * TOE_FORWARD * H,
            ]
        ),
        "small": np.array(
            [
                fwd * side * 0.8 * TOE_FORWARD * H + outward * f * 0.9 * FOOT_WIDTH * H,
                floor + drop * 0.8 * TOE_FORWARD * H,
            ]
        ),
    }


def _complete_person(person: Mapping, stance: str, symmetry: bool, use_prior: bool, feet: bool) -> dict:
    p = person_points(person)
    inferred = set(inferred_indices(person))
    prior = None
    if use_prior and person.get(PRIOR_KEY) is not None:
        prior = _flat_triplets(person[PRIOR_KEY], PRIOR_KEY, N_POINTS)
        if prior.shape[0] == 0:
            prior = None
    _fill_hips(p, inferred)
    geo = body_scale(p)
    if geo is None:
        return copy.deepcopy(dict(person))
    H = geo["H"]
    # left/right mirroring of the other leg: x negated for a frontal view, copied as is in profile
    # (both legs then point the same way on screen)
    flip = -1.0 if geo["facing"] >= 0.5 else 1.0
    measured = (p[:, 2] > 0) & ~np.isin(np.arange(N_POINTS), sorted(inferred))
    lengths = {"knee": THIGH * H, "ankle": SHANK * H}

    def prior_ok(idx: int, parent: np.ndarray, expected: float, parent_idx: int) -> np.ndarray | None:
        if prior is None or prior[idx, 2] <= 0:
            return None
        # the detector's limb vector, re-anchored at our (possibly inferred) parent; if plausible,
        # its direction is kept and its length set to the anthropometric one
        vec = prior[idx, :2] - (prior[parent_idx, :2] if prior[parent_idx, 2] > 0 else parent)
        if not _plausible(parent, parent + vec, expected):
            return None
        return parent + _unit(vec) * expected

    # segment lengths shared by both legs: a detected thigh of plausible length (either leg, own
    # side first) sets the thigh and shank lengths, else the anthropometric ones
    def observed_thigh(side: str) -> float | None:
        L = _LEGS[side]
        if measured[L["knee"]] and measured[L["hip"]]:
            t = float(np.hypot(*(p[L["knee"], :2] - p[L["hip"], :2])))
            lo, hi = OBSERVED_THIGH_RANGE
            if lo * THIGH * H <= t <= hi * THIGH * H:
                return t
        return None

    for side, other in (("left", "right"), ("right", "left")):
        leg, opposite = _LEGS[side], _LEGS[other]
        # --- knee, then ankle
        for joint, parent_name in (("knee", "hip"), ("ankle", "knee")):
            j, par = leg[joint], leg[parent_name]
            if p[j, 2] > 0:
                continue
            parent = p[par, :2]
            expected = lengths[joint]
            t_obs = observed_thigh(side) or (observed_thigh(other) if symmetry else None)
            if t_obs is not None:
                expected = t_obs if joint == "knee" else t_obs * SHANK / THIGH
            new = None
            if symmetry and measured[opposite[joint]] and measured[opposite[parent_name]]:
                v = p[opposite[joint], :2] - p[opposite[parent_name], :2]
                new = parent + np.array([flip * v[0], v[1]])
            if new is None:
                new = prior_ok(j, parent, expected, par)
            if new is None:
                direction = DOWN
                if stance == "follow_thighs":
                    if joint == "ankle":
                        direction = _unit(p[leg["knee"], :2] - p[leg["hip"], :2])
                    elif measured[opposite["knee"]] and measured[opposite["hip"]]:
                        v = p[opposite["knee"], :2] - p[opposite["hip"], :2]
                        direction = _unit(np.array([flip * v[0], v[1]]))
                new = parent + direction * expected
            p[j] = (*new, 1.0)
            inferred.add(j)
        if not feet:
            continue
        # --- feet
        ankle = p[leg["ankle"], :2]
        outward = float(
            np.sign(p[leg["hip"], 0] - p[opposite["hip"], 0]) or (1.0 if side == "left" else -1.0)
        )
        model = _foot_offsets(geo, outward)
        for name in ("heel", "big", "small"):
            j = leg[name]
            if p[j, 2] > 0:
                continue
            new = None
            if symmetry and measured[opposite[name]] and measured[opposite["ankle"]]:
                v = p[opposite[name], :2] - p[opposite["ankle"], :2]
                new = ankle + np.array([flip * v[0], v[1]])
            if new is None and prior is not None and prior[j, 2] > 0 and prior[leg["ankle"], 2] > 0:
                v = prior[j, :2] - prior[leg["ankle"], :2]
                if float(np.hypot(*v)) <= 1.5 * FOOT_LENGTH * H and v[1] >= -0.02 * H:
                    new = ankle + v
            if new is None:
                new = ankle + model[name]
            p[j] = (*new, 1.0)
            inferred.add(j)
        # a small toe derived from the prior foot shape must stay consistent with heel and big toe
    out = set_person_points(person, p, inferred)
    return out


def complete_legs(
    frame: Mapping,
    stance: str = "straight",
    symmetry: bool = True,
    use_prior: bool = True,
    feet: bool = True,
    people: Sequence[int] | None = None,
) -> dict:
    """Infer missing hips, knees, ankles and feet (e.g. beyond the frame) of every person.

    Visible (present) points are kept unchanged. Each inferred point becomes present (confidence
    1.0, which controlnet_aux's decoder still draws: it drops only ``c < 1.0``) and its index
    (0..23, see :mod:`pose.keypoints`) is added to the person's ``"inferred_keypoints"``.
    Coordinates are pixels and may fall outside the canvas (below it, for legs cut off by the
    frame); the canvas size is unchanged (use :func:`pose.pad` / :func:`pose.auto_padding`).

    Lengths come from Drillis & Contini (1966) as tabulated in Winter, *Biomechanics and Motor
    Control of Human Movement* (4th ed., 2009), Fig. 4.1, fractions of body height H:
    torso (shoulder to hip) 0.288 H (0.818 - 0.530), thigh 0.245 H (0.530 - 0.285), shank 0.246 H
    (0.285 - 0.039), ankle height 0.039 H, foot length 0.152 H, foot width 0.055 H, shoulder width
    0.259 H, hip width 0.191 H. H is estimated from the visible torso (shoulder midpoint, or neck,
    to hip midpoint) as torso / 0.288; see the module docstring for the foot geometry.

    For each missing point, in order of preference:

    1. ``symmetry``: the same point of the other leg, if that one was detected: its vector from its
       parent joint, mirrored left/right (x negated) when the person faces the camera (shoulder
       width >= 0.5 x 0.259 H), copied unchanged in profile;
    2. ``use_prior``: the detector's own estimate (``"prior_keypoints_2d"``, e.g. MediaPipe's
       out-of-frame legs), re-anchored at the parent joint, if plausible: length within
       0.7..1.3 x the expected one and within 45 degrees of straight down;
    3. the anthropometric model: ``stance="straight"`` hangs the segment straight down (image +y);
       ``stance="follow_thighs"`` continues the direction of the thigh for the shank (and, for a
       missing knee, mirrors the other detected thigh if any). A detected thigh of plausible length
       (0.6..1.4 x model) sets the shank length (thigh x 0.246 / 0.245).

    Missing hips are inferred from the shoulders (spacing x 0.191 / 0.259; if both are missing,
    0.288 H below the shoulders with H = shoulder width / 0.259). A person without shoulders (or
    neck) and hips is returned unchanged.

    Args:
        frame: one POSE_KEYPOINT frame (not modified).
        stance: ``"straight"`` or ``"follow_thighs"``.
        symmetry: mirror the other leg's detected points (see above).
        use_prior: use the detector's plausible out-of-frame estimates.
        feet: also infer heels and toes.
        people: indices of the people to complete (default: all).
    Returns:
        a new frame (deep copy).
    Raises:
        ValueError for a bad ``stance`` or person index; PoseFormatError for a malformed frame.
    """
    validate_frame(frame)
    if stance not in STANCES:
        raise ValueError(f"stance must be one of {STANCES}, got {stance!r}")
    n = len(frame["people"])
    chosen = range(n) if people is None else list(people)
    for i in chosen:
        if not isinstance(i, (int, np.integer)) or not 0 <= i < n:
            raise ValueError(f"people: index {i!r} out of range for {n} people")
    out = copy.deepcopy(dict(frame))
    out["people"] = [
        _complete_person(person, stance, symmetry, use_prior, feet)
        if i in set(chosen)
        else copy.deepcopy(person)
        for i, person in enumerate(frame["people"])
    ]
    for person in out["people"]:
        person.setdefault(INFERRED_KEY, [])
    return out


def leg_ratios(frame: Mapping, person: int = 0) -> dict[str, float]:
    """Segment lengths of one person relative to the torso (shoulder midpoint to hip midpoint).

    Returns ``{"left_thigh", "left_shank", "right_thigh", "right_shank"}`` (missing segments
    omitted). Anthropometric values (Winter Fig. 4.1): thigh 0.851, shank 0.854.
    """
    validate_frame(frame)
    p = person_points(frame["people"][person])
    geo = body_scale(p)
    if geo is None:
        raise ValueError(f"person {person}: needs shoulders (or neck) and both hips to measure the torso")
    out = {}
    for side, L in _LEGS.items():
        for seg, (a, b) in (("thigh", ("hip", "knee")), ("shank", ("knee", "ankle"))):
            if p[L[a], 2] > 0 and p[L[b], 2] > 0:
                out[f"{side}_{seg}"] = float(np.hypot(*(p[L[b], :2] - p[L[a], :2]))) / geo["torso"]
    return out
