"""Learning from user reports: counts in, a new model file out, exactly as scikit-learn learns.

Discrete naive Bayes counts are sufficient statistics, so learning is exact: the learned
model is the export's counts plus the feature rows of the learned reports, taken as one
``partial_fit`` batch in ascending report-id order, turned into the classifier's arrays by
scikit-learn's own expressions (``counts.py``). It is a function of (export, set of
reports): relearning a set gives the same bytes, and forgetting a report gives the file
that never learned it (``relearn.py``). What may be learned is decided by the guard rails
(``guards.py``) and the golden-set gate (``gate.py``); ``learner.py`` runs the whole loop
for the command line and the Lambda. NumPy is required here; serving never imports this.
"""
