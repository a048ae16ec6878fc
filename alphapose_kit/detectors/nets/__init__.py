"""Person-detector networks: YOLOv3-SPP (darknet cfg + .weights) and YOLOv5, apart from their post-processing."""
