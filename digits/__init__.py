"""Handwritten digits and numbers read from uploaded images.

- `digits.core`: the recognition core, pure functions from upload bytes to probabilities
  (no Flask); used by the service, training, evaluation and the notebook alike.
- `digits.service`: the HTTP service (app factory, routes, problem documents, settings).
- `digits.features`: the optional features (API keys, rate limits, CORS, metrics, URL
  fetching), each imported and attached only when its setting is on.
- `digits.lab`: the offline lab (augmentation, training, realistic uploads, evaluation).
"""
