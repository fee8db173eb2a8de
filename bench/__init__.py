"""Benchmarks: each figure of the product beside a floor measured in the same run (`make bench`)."""
