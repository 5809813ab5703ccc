"""The model layer: where weights come from, where trained versions live, how one is loaded.

Training writes here and everything else reads here, so it sits below all of them (pipeline,
train, specialist, evaluate, loop): ``base_model.py`` (the base checkpoint, offline),
``registry.py`` (numbered versions, ``current``, promote, rollback), ``fit.py`` (fitting a
prompt into ``max_length`` the same way in training and inference) and ``loader.py``
(``load_specialist``: a model in memory for generation and scoring).

Nothing is re-exported here: importing the registry must not load the loader's helpers.
"""
