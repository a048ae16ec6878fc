"""Pure array functions on poses (torchvision.ops style): parametric pose NMS, OKS-NMS and person scores."""
