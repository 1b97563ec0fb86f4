"""Vehicle-level diagnostics: discovery, concurrent scans, functional clear."""
