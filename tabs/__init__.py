"""The page's tabs, one module each; `webapp.py` lays them out."""
