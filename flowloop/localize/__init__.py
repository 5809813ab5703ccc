"""Learned localization: which files a task will touch, ranked by a model trained on the
repository's own history (candidates and as-of features in ``features``, the model in
``model``, training and prediction in ``api``)."""
