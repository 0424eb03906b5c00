"""Why a run's model scores as it does: permutation importance on validation (by feature and, for
sequences, by time step) and per-customer reason codes with direction, shared by ``seqexp explain``
and ``seqexp predict --explain K``.

Modules: ``layout`` (features as units, event ages), ``importance`` (permutation importance),
``contributions`` (exact for LightGBM and logistic regression, integrated gradients for Keras, via
``gradients``), ``reasons`` (contributions summed into readable reasons), ``rows`` (chunked),
``explainer`` (the explanation folder), ``columns`` (predict's reason columns), ``figures``.
"""
