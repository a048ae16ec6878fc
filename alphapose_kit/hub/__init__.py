"""Model hub: the zoo of official checkpoints and the resumable, atomic downloader."""
