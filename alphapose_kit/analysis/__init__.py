"""Motion analysis on tracked poses: joint angles, repetitions, movement comparison (DTW), falls, HTML report."""
