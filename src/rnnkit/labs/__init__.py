"""Labs: each task end to end on built-in or packaged data (``rnnkit lab NAME``).

Each module has ``run(config=None, *, out_dir=None, quick=False) -> dict``.
"""

__all__: list[str] = []
