"""Several cameras: board calibration (intrinsics, extrinsics), the TOML calibration file Pose2Sim and anipose share,
cross-view association, time sync and confidence-weighted triangulation of 2D poses into 3D."""
