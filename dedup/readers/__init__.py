"""Readers: one module per input format, each yielding articles and rejections with their file and line."""
