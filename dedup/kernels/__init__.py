"""Kernels: pure functions over a batch of documents (numpy, polars, Arrow in and out), each taking its own config section; no I/O, no pools, no global state."""
