"""Host-independent pose core: detection with feet, completing legs beyond the frame, padding,
rendering and POSE_KEYPOINT / OpenPose JSON interop.

Never imports ComfyUI. Dependencies: numpy, PIL, optional torch (padding tensors), cv2 and
controlnet_aux (rendering), mediapipe (detection).

Public API::

    frame = detect(image)                        # uint8 [H, W, 3] RGB -> POSE_KEYPOINT frame
    frame = detect(image, hands=True, face=True) # + OpenPose's 21-point hands and 70-point face
    frame = complete_legs(frame, stance="straight", symmetry=True)
    pads = auto_padding(frame)                   # (left, top, right, bottom), multiples of 64
    frame = pad(frame, *pads)                    # re-base keypoints (pixels)
    image, mask = pad_image_mask(image, mask, *pads, grow=8, feather=16)
    control = render(frame)                      # uint8 [H, W, 3] OpenPose control image
    frames, status = apply_edits(frames, edits)  # the Pose Editor widget's edits, keyed to their input

See :mod:`pose.keypoints` for the keypoint model, the foot key ``"foot_keypoints_2d"`` and the
inferred-point convention ``"inferred_keypoints"``.
"""

from .complete import complete_legs, leg_ratios
from .detect import detect, detect_dwpose, detect_openpose
from .edit import LIMBS, move_limb, remove_point, rotate_limb, scale_limb, set_point
from .editor import apply_edits, blank_frames, input_key, parse_edits
from .keypoints import (
    FOOT_KEY,
    INFERRED_KEY,
    KEYPOINT_NAMES,
    MAX_CANVAS_SIDE,
    PRIOR_KEY,
    SCORES_KEY,
    PoseFormatError,
    dump_pose_keypoint_json,
    frame_from_openpose_json,
    frame_from_pose_keypoint,
    frame_to_openpose_json,
    frame_to_pose_keypoint,
    load_pose_keypoint_json,
    new_frame,
    person_from_points,
    person_points,
    validate_frame,
)
from .pad import auto_padding, keypoint_bounds, pad, pad_all, pad_image_mask
from .render import overlay, render
from .wholebody import add_hands_face

__all__ = [
    "FOOT_KEY",
    "INFERRED_KEY",
    "KEYPOINT_NAMES",
    "MAX_CANVAS_SIDE",
    "LIMBS",
    "PRIOR_KEY",
    "PoseFormatError",
    "SCORES_KEY",
    "add_hands_face",
    "apply_edits",
    "auto_padding",
    "blank_frames",
    "complete_legs",
    "detect",
    "detect_dwpose",
    "detect_openpose",
    "dump_pose_keypoint_json",
    "frame_from_openpose_json",
    "frame_from_pose_keypoint",
    "frame_to_openpose_json",
    "frame_to_pose_keypoint",
    "input_key",
    "keypoint_bounds",
    "leg_ratios",
    "load_pose_keypoint_json",
    "move_limb",
    "new_frame",
    "overlay",
    "pad",
    "pad_all",
    "pad_image_mask",
    "parse_edits",
    "person_from_points",
    "person_points",
    "remove_point",
    "render",
    "rotate_limb",
    "scale_limb",
    "set_point",
    "validate_frame",
]
