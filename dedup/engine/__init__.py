"""Engines: what runs the kernels over a feed. ``local`` runs them in processes and threads on one machine."""
