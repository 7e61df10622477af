"""The store: atomic publishing, sketch segments, the state kept between runs and the window of documents a run clusters."""
