"""What `train_model.py` is made of, one role a module: the data (canvas strokes, styles,
not-digits, pen and CVL handwriting, the training sets and the sources held out), augmentation
and batches, calibration, the figures and their report, the model's records, and the `sites`
and `finetune` subcommands.

Imports `preprocess`, `digit_model`, `reading` and `feedback`; never `server` or `tabs`, and no
part of the app imports it.
"""
