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
joint over the back quarter of the foot); the small-toe tip lies 0.8 of the way from the heel to
the big-toe tip, outward by most of a foot width (:func:`small_toe_from`, the one small-toe model,
which :mod:`pose.detect` uses too).

Body axis: legs are completed in the person's own frame. Its "down" is the image direction (down,
right, up or left) nearest to the torso's shoulders -> hips direction, so a person lying across the
photo, or a photo turned by 90 or 180 degrees, gets legs along the body; a standing person's lean
(or the hips' detection noise) of up to 45 degrees keeps the legs along the image's vertical.

Inferred points are present points (confidence 1.0, so controlnet_aux and comfyui_controlnet_aux
draw them: their decoder drops confidence < 1.0) and are listed in the person's
``"inferred_keypoints"`` (see :mod:`pose.keypoints`).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping, Sequence

import numpy as np

from ..checks import check_int
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
HEEL_BACK = 0.25 * FOOT_LENGTH  # heel behind the ankle (Winter Fig. 4.1: ankle over the back quarter)
TOE_FORWARD = 0.75 * FOOT_LENGTH  # big-toe tip ahead of the ankle (the other three quarters)

# Foot shape beyond Winter's table: assumptions of this pack, stated as such.
# The small-toe tip lies SMALL_TOE_ALONG of the way from the heel to the big-toe tip, and the toe tips
# lie outward of the ankle's line by these fractions of the foot width (0.055 H, the width across
# the ball of the foot): the big toe near that line, the small toe near the foot's outer edge.
SMALL_TOE_ALONG = 0.8
BIG_TOE_OUT = 0.1
SMALL_TOE_OUT = 0.9
# In a frontal view the toes are nearer the camera and appear a little lower than the heel:
# TOE_DROP x the forward length approximates that perspective drop for a camera at hip height about
# 3 H away (an assumption).
TOE_DROP = 0.15

# Plausibility of a detector's own out-of-frame guess (a "prior"): segment length within this
# factor range of the anthropometric length, direction within this angle of the body axis.
PRIOR_LENGTH_RANGE = (0.7, 1.3)
PRIOR_MAX_ANGLE_DEG = 45.0
# A prior foot point is used when within this many foot lengths of the prior ankle and at most this
# fraction of H above it (towards the head): a foot reaches about one foot length from the ankle and
# never far above it.
PRIOR_FOOT_REACH = 1.5
PRIOR_FOOT_RISE = 0.02
# An observed thigh is trusted for the shank length when within this range of the model's.
OBSERVED_THIGH_RANGE = (0.6, 1.4)
# Facing (shoulder width / 0.259 H) from which a person counts as frontal: the other leg is then
# mirrored across the body axis; below it (profile) it is copied as is.
FRONTAL_FACING = 0.5

STANCES = ("straight", "follow_thighs")
DOWN = np.array([0.0, 1.0])
IMAGE_AXES = np.array([[0.0, 1.0], [1.0, 0.0], [0.0, -1.0], [-1.0, 0.0]])
"""Down, right, up, left (image px directions): the legs' direction is snapped to the nearest one."""

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
_OTHER = {"left": "right", "right": "left"}


def small_toe_from(
    heel: np.ndarray, big_toe: np.ndarray, hip: np.ndarray, other_hip: np.ndarray
) -> np.ndarray:
    """The small-toe tip (pixels) from the heel, the big-toe tip and the two hips: the one foot model.

    ``heel + 0.8 (big_toe - heel)`` (:data:`SMALL_TOE_ALONG`), moved outward of that heel -> big-toe
    line by 0.9 - 0.1 = 0.8 foot widths (:data:`SMALL_TOE_OUT` less :data:`BIG_TOE_OUT`: the toe tips'
    distances from the ankle's line), a foot width being seen as ``(0.055 / 0.191) x (hip -
    other_hip)`` (foot width over hip width, Winter Fig. 4.1). The hips' vector carries
    the body's scale, its turn (short in profile, where the toes overlap) and its direction (a lying
    person's feet spread across the body axis). All ``[2]`` px; returns float64 ``[2]``.
    """
    heel = np.asarray(heel, dtype=np.float64)
    spread = _toe_spread(np.asarray(hip, dtype=np.float64), np.asarray(other_hip, dtype=np.float64))
    along = heel + SMALL_TOE_ALONG * (np.asarray(big_toe, dtype=np.float64) - heel)
    return along + (SMALL_TOE_OUT - BIG_TOE_OUT) * spread


def _toe_spread(hip: np.ndarray, other_hip: np.ndarray) -> np.ndarray:
    """One foot width (0.055 H) pointing outward from ``hip``, as seen: (0.055 / 0.191) x hips."""
    return (FOOT_WIDTH / HIP_WIDTH) * (hip - other_hip)


def _unit(v: np.ndarray) -> np.ndarray:
    n = float(np.hypot(*v))
    return v / n if n > 1e-9 else DOWN.copy()


def nearest_image_axis(v: np.ndarray) -> np.ndarray:
    """The one of :data:`IMAGE_AXES` (down, right, up, left) nearest in angle to ``v`` (down if 0)."""
    return IMAGE_AXES[int(np.argmax(IMAGE_AXES @ _unit(np.asarray(v, dtype=np.float64))))].copy()


def _angle_deg(v: np.ndarray, axis: np.ndarray) -> float:
    return math.degrees(math.acos(max(-1.0, min(1.0, float(_unit(v) @ axis)))))


def body_scale(points: np.ndarray) -> dict | None:
    """Torso geometry of one person from ``[24, 3]`` points, or None if too little is visible.

    Returns a dict with ``H`` (estimated body height, px), ``torso`` (px), ``shoulder_mid``,
    ``hip_mid`` (px ``[2]``), ``down`` (unit ``[2]``: the image direction nearest to the torso's
    shoulders -> hips direction, see :func:`nearest_image_axis`; the legs are completed along it),
    ``lateral`` (``down`` turned 90 degrees: the body's left-right axis, +x for an upright person),
    ``facing`` (0 = profile .. 1 = frontal, from the shoulder width relative to 0.259 H) and
    ``forward`` (+1/-1: the direction along ``lateral`` that the person faces in profile, from nose
    vs. neck; +1 if unknown).
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
    down = nearest_image_axis(hip_mid - sh_mid)
    lateral = np.array([down[1], -down[0]])
    facing = 1.0
    if has[rs] and has[ls]:
        facing = min(1.0, float(np.hypot(*(p[rs, :2] - p[ls, :2]))) / (SHOULDER_WIDTH * H))
    forward = 1.0
    if has[KP["nose"]]:
        forward = float(np.sign((p[KP["nose"], :2] - sh_mid) @ lateral) or 1.0)
    return {
        "H": H,
        "torso": torso,
        "shoulder_mid": sh_mid,
        "hip_mid": hip_mid,
        "down": down,
        "lateral": lateral,
        "facing": facing,
        "forward": forward,
    }


def _fill_hips(p: np.ndarray, inferred: set[int]) -> None:
    """Infer missing hips from the shoulders (in place on the working copy).

    One hip missing: the other one plus the shoulders' vector x 0.191 / 0.259 (hip / shoulder width).
    Both missing: 0.288 H (torso) from the shoulder midpoint, H = shoulder width / 0.259, towards
    the image axis nearest to the nose -> shoulders direction (straight down without a nose).
    """
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
    down = nearest_image_axis(sh_mid - p[KP["nose"], :2]) if has[KP["nose"]] else DOWN
    hip_mid = sh_mid + down * TORSO * H
    p[rh] = (*(hip_mid - hip_vec / 2), 1.0)
    p[lh] = (*(hip_mid + hip_vec / 2), 1.0)
    inferred.update((rh, lh))


class _Person:
    """Working state of one person being completed: points, what was measured, the body frame."""

    def __init__(self, person: Mapping, use_prior: bool):
        self.p = person_points(person)
        self.inferred = set(inferred_indices(person))
        self.prior = _read_prior(person) if use_prior else None
        _fill_hips(self.p, self.inferred)
        self.geo = body_scale(self.p)
        self.measured = (self.p[:, 2] > 0) & ~np.isin(np.arange(N_POINTS), sorted(self.inferred))

    def body(self, v: np.ndarray) -> np.ndarray:
        """Image vector -> body frame (lateral, along the legs)."""
        return np.array([v @ self.geo["lateral"], v @ self.geo["down"]])

    def image(self, b: np.ndarray) -> np.ndarray:
        """Body frame (lateral, along the legs) -> image vector."""
        return b[0] * self.geo["lateral"] + b[1] * self.geo["down"]

    def mirrored(self, v: np.ndarray) -> np.ndarray:
        """The other leg's vector ``v`` for this leg: lateral part negated when the person faces the
        camera (facing >= 0.5), unchanged in profile (both legs then point the same way)."""
        if self.geo["facing"] < FRONTAL_FACING:
            return v.copy()
        b = self.body(v)
        return self.image(np.array([-b[0], b[1]]))

    def detected(self, *indices: int) -> bool:
        return bool(all(self.measured[i] for i in indices))

    def vector(self, a: int, b: int) -> np.ndarray:
        """Image vector from point ``a`` to point ``b`` (px)."""
        return self.p[b, :2] - self.p[a, :2]

    def put(self, j: int, xy: np.ndarray) -> None:
        self.p[j] = (*xy, 1.0)
        self.inferred.add(j)


def _read_prior(person: Mapping) -> np.ndarray | None:
    """The detector's own guesses ``[24, 3]`` (:data:`PRIOR_KEY`), or None when absent."""
    if person.get(PRIOR_KEY) is None:
        return None
    prior = _flat_triplets(person[PRIOR_KEY], PRIOR_KEY, N_POINTS)
    return prior if prior.shape[0] else None


def _observed_thigh(s: _Person, side: str) -> float | None:
    """A detected thigh's length (px), if within 0.6..1.4 x the model's 0.245 H, else None."""
    leg = _LEGS[side]
    if not s.detected(leg["knee"], leg["hip"]):
        return None
    t = float(np.hypot(*s.vector(leg["hip"], leg["knee"])))
    lo, hi = OBSERVED_THIGH_RANGE
    model = THIGH * s.geo["H"]
    return t if lo * model <= t <= hi * model else None


def _segment_length(s: _Person, side: str, joint: str, symmetry: bool) -> float:
    """Length (px) of the segment ending at ``joint`` ("knee": thigh, "ankle": shank).

    A detected thigh of plausible length (own side first, then, with ``symmetry``, the other) sets
    the thigh, and the shank as thigh x 0.246 / 0.245; else 0.245 H and 0.246 H (Winter Fig. 4.1).
    """
    observed = _observed_thigh(s, side) or (_observed_thigh(s, _OTHER[side]) if symmetry else None)
    if observed is None:
        return (THIGH if joint == "knee" else SHANK) * s.geo["H"]
    return observed if joint == "knee" else observed * SHANK / THIGH


def _from_other_leg(s: _Person, side: str, joint: str, parent: str) -> np.ndarray | None:
    """The other leg's detected ``parent -> joint`` vector, mirrored (see :meth:`_Person.mirrored`)."""
    opposite = _LEGS[_OTHER[side]]
    if not s.detected(opposite[joint], opposite[parent]):
        return None
    return s.mirrored(s.vector(opposite[parent], opposite[joint]))


def _from_prior(s: _Person, j: int, parent_idx: int, expected: float) -> np.ndarray | None:
    """The detector's guess for point ``j`` as a unit direction from the parent, if plausible.

    The guessed limb vector is re-anchored at our (possibly inferred) parent; it is plausible when
    its length is 0.7..1.3 x ``expected`` and it lies within 45 degrees of the body axis.
    """
    if s.prior is None or s.prior[j, 2] <= 0:
        return None
    parent = s.p[parent_idx, :2]
    anchor = s.prior[parent_idx, :2] if s.prior[parent_idx, 2] > 0 else parent
    vec = s.prior[j, :2] - anchor
    lo, hi = PRIOR_LENGTH_RANGE
    length = float(np.hypot(*vec))
    if not (lo * expected <= length <= hi * expected) or _angle_deg(vec, s.geo["down"]) > PRIOR_MAX_ANGLE_DEG:
        return None
    return _unit(vec)


def _model_direction(s: _Person, side: str, joint: str, stance: str) -> np.ndarray:
    """Unit direction of the segment ending at ``joint`` from the anthropometric model.

    ``straight``: along the body axis (``geo["down"]``). ``follow_thighs``: the shank continues the
    thigh; a knee mirrors the other leg's detected thigh, if any.
    """
    leg, opposite = _LEGS[side], _LEGS[_OTHER[side]]
    if stance == "follow_thighs":
        if joint == "ankle":
            return _unit(s.vector(leg["hip"], leg["knee"]))
        if s.detected(opposite["knee"], opposite["hip"]):
            return _unit(s.mirrored(s.vector(opposite["hip"], opposite["knee"])))
    return s.geo["down"]


def _complete_joints(s: _Person, side: str, stance: str, symmetry: bool) -> None:
    """Fill a missing knee, then ankle: the other leg (``symmetry``), the prior, else the model."""
    leg = _LEGS[side]
    for joint, parent in (("knee", "hip"), ("ankle", "knee")):
        j, par = leg[joint], leg[parent]
        if s.p[j, 2] > 0:
            continue
        expected = _segment_length(s, side, joint, symmetry)
        vec = _from_other_leg(s, side, joint, parent) if symmetry else None
        if vec is None:
            direction = _from_prior(s, j, par, expected)
            if direction is None:
                direction = _model_direction(s, side, joint, stance)
            vec = direction * expected
        s.put(j, s.p[par, :2] + vec)


def _foot_model(s: _Person, side: str) -> dict[str, np.ndarray]:
    """Heel and big-toe tip offsets from the ankle (px) for a person on level ground.

    In the body frame (lateral, along the legs): the floor lies 0.039 H beyond the ankle (ankle
    height); the heel 0.25 foot length behind the ankle and the big toe 0.75 ahead (along ``forward``
    as much as the foot shows sideways, ``sqrt(1 - facing**2)``); in a frontal view the toes drop
    by :data:`TOE_DROP` of their forward length and the big toe sits 0.1 foot width outward.
    """
    g = s.geo
    H, f, fwd = g["H"], g["facing"], g["forward"]
    side_view = math.sqrt(max(0.0, 1.0 - f * f))  # how much the foot length shows across the axis
    floor = ANKLE_HEIGHT * H
    drop = TOE_DROP * f
    leg = _LEGS[side]
    spread = _toe_spread(s.p[leg["hip"], :2], s.p[_LEGS[_OTHER[side]]["hip"], :2])
    heel = s.image(np.array([-fwd * side_view * HEEL_BACK * H, floor - drop * HEEL_BACK * H]))
    big = s.image(np.array([fwd * side_view * TOE_FORWARD * H, floor + drop * TOE_FORWARD * H]))
    return {"heel": heel, "big": big + BIG_TOE_OUT * spread}


def _from_prior_foot(s: _Person, j: int, ankle: int) -> np.ndarray | None:
    """The detector's guessed ankle -> foot-point vector, if within 1.5 foot lengths of the ankle
    and at most 0.02 H above it (towards the head), else None."""
    if s.prior is None or s.prior[j, 2] <= 0 or s.prior[ankle, 2] <= 0:
        return None
    v = s.prior[j, :2] - s.prior[ankle, :2]
    H = s.geo["H"]
    if float(np.hypot(*v)) <= PRIOR_FOOT_REACH * FOOT_LENGTH * H and s.body(v)[1] >= -PRIOR_FOOT_RISE * H:
        return v
    return None


def _complete_foot(s: _Person, side: str, symmetry: bool) -> None:
    """Fill a missing heel and big toe (the other foot, the prior, else :func:`_foot_model`), then a
    missing small toe from them with :func:`small_toe_from`."""
    leg = _LEGS[side]
    ankle = s.p[leg["ankle"], :2]
    model = _foot_model(s, side)
    for name in ("heel", "big"):
        j = leg[name]
        if s.p[j, 2] > 0:
            continue
        vec = _from_other_leg(s, side, name, "ankle") if symmetry else None
        if vec is None:
            vec = _from_prior_foot(s, j, leg["ankle"])
        s.put(j, ankle + (model[name] if vec is None else vec))
    if s.p[leg["small"], 2] <= 0:
        other_hip = _LEGS[_OTHER[side]]["hip"]
        s.put(
            leg["small"],
            small_toe_from(
                s.p[leg["heel"], :2], s.p[leg["big"], :2], s.p[leg["hip"], :2], s.p[other_hip, :2]
            ),
        )


def _complete_person(person: Mapping, stance: str, symmetry: bool, use_prior: bool, feet: bool) -> dict:
    """One person: hips from the shoulders, then per leg knee and ankle, then (``feet``) the foot."""
    s = _Person(person, use_prior)
    if s.geo is None:
        return copy.deepcopy(dict(person))
    for side in ("left", "right"):
        _complete_joints(s, side, stance, symmetry)
        if feet:
            _complete_foot(s, side, symmetry)
    return set_person_points(person, s.p, s.inferred)


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
       parent joint, mirrored across the body axis when the person faces the camera (shoulder
       width >= 0.5 x 0.259 H), copied unchanged in profile;
    2. ``use_prior``: the detector's own estimate (``"prior_keypoints_2d"``, e.g. MediaPipe's
       out-of-frame legs), re-anchored at the parent joint, if plausible: length within
       0.7..1.3 x the expected one and within 45 degrees of the body axis;
    3. the anthropometric model: ``stance="straight"`` lays the segment along the body axis (the
       image direction nearest to shoulders -> hips: straight down for a standing person, sideways
       for a lying one, see the module docstring);
       ``stance="follow_thighs"`` continues the direction of the thigh for the shank (and, for a
       missing knee, mirrors the other detected thigh if any). A detected thigh of plausible length
       (0.6..1.4 x model) sets the shank length (thigh x 0.246 / 0.245).

    Missing hips are inferred from the shoulders (spacing x 0.191 / 0.259; if both are missing,
    0.288 H beyond the shoulders, away from the nose, with H = shoulder width / 0.259). Heels and
    big toes follow the same order (other foot, prior, model); the small toe is always derived from
    the heel and big toe (:func:`small_toe_from`). A person without shoulders (or
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
        ValueError for a bad ``stance`` or an out-of-range person index; TypeError for an index that is
        not an int; PoseFormatError for a malformed frame.
    """
    validate_frame(frame)
    if stance not in STANCES:
        raise ValueError(f"stance must be one of {STANCES}, got {stance!r}")
    n = len(frame["people"])
    chosen = (
        range(n) if people is None else [check_int(f"people (of {n} people)", i, 0, n - 1) for i in people]
    )
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
