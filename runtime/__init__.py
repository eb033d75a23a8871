"""The Lambda runtime: scikit-learn's text pipelines, scored exactly, without scikit-learn.

Import-light on purpose: loading a model and answering a few messages need the standard
library alone; NumPy is imported only for batches worth vectorising (and never by the
NumPy-free build), after the handler has set BLAS's thread limit.
"""

# The one place the version is written: pyproject.toml reads it, /health reports it.
__version__ = "3.1.1"
# The sentinel exporter/ and localserver/ check at import: a package merely named
# ``runtime`` (a generic name) that shadows this one lacks it.
DISTRIBUTION = "sms-spam-lambda"
