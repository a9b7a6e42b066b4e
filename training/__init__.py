"""Making the training data `train_model.py` uses: canvas strokes, styles, not-digits, pen data.

Imports `preprocess` only; never `reading`, `feedback`, `server` or `tabs`.
"""
