"""The staff area's front page; each capability keeps its own staff views in its `staff.py`."""
