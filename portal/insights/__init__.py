"""Insights for leaders: indicators 1.1-1.3 and family engagement, aggregated and protected.

`measure_table` (compute.py) is the one way to get numbers: suppression is applied inside,
so no page, CSV or command can see a small group's raw counts.
"""
