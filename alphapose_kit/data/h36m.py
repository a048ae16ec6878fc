"""Human3.6M's 17-joint skeleton: the output of 3D lifters trained on it (VideoPose3D's ``pretrained_h36m_*``).

Joint order and left/right sides as VideoPose3D's Human3.6M skeleton after its unused joints are removed
(common/h36m_dataset.py: ``joints_left`` 4-6, 11-13; ``joints_right`` 1-3, 14-16; Ionescu et al., TPAMI 2014).
No OKS sigmas: nothing scores it with OKS.
"""

from __future__ import annotations

from alphapose_kit.data.keypoints import KeypointSet, register_keypoint_set

H36M17 = register_keypoint_set(
    KeypointSet(
        name="h36m17",
        names=(
            "hip",
            "right_hip",
            "right_knee",
            "right_ankle",
            "left_hip",
            "left_knee",
            "left_ankle",
            "spine",
            "thorax",
            "neck",
            "head",
            "left_shoulder",
            "left_elbow",
            "left_wrist",
            "right_shoulder",
            "right_elbow",
            "right_wrist",
        ),
        flip_pairs=((1, 4), (2, 5), (3, 6), (11, 14), (12, 15), (13, 16)),
        skeleton=(
            (0, 1),
            (1, 2),
            (2, 3),
            (0, 4),
            (4, 5),
            (5, 6),
            (0, 7),
            (7, 8),
            (8, 9),
            (9, 10),
            (8, 11),
            (11, 12),
            (12, 13),
            (8, 14),
            (14, 15),
            (15, 16),
        ),
        sigmas=(),
        parts=(("body", tuple(range(17))),),
    )
)
