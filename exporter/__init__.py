"""Training-side code: fits the scikit-learn recipe and exports it for the NumPy runtime."""
