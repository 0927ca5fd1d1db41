"""rnnkit.monitoring: the reference profile every bundle keeps and drift detection against it.

:mod:`.profile` computes what "normal" looked like at training time; :mod:`.drift` compares
new data with it (PSI, Kolmogorov-Smirnov, window statistics, prediction drift, text length
and OOV rate). ``rnnkit monitor RUN --data NEW.csv`` is the command line.
"""

__all__ = ["drift", "profile"]
