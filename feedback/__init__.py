"""Labels people give on the page: storing, exporting, and who may see or download them.

Imports `preprocess` only; never `digit_model`, `reading`, `server` or `tabs`.
"""
