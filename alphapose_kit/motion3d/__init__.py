"""3D from one camera: temporal 2D-to-3D lifting (VideoPose3D) of tracked 2D keypoints."""
