"""Engine: the predictor that runs the top-down pipeline, and the ``akit infer`` run around it."""
