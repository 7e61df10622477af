"""Stages: what a run does, in order (``pipeline``), each a function over the window that runs kernels and times itself."""
