"""NumPy-only inference runtime for the exported TF-IDF + Gaussian NB spam model.

Kept import-light on purpose: importing the package must not pull in NumPy, so the
Lambda handler can set thread limits before NumPy's BLAS starts.
"""

__version__ = "1.0.0"
