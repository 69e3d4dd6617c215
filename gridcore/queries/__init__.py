"""Read-only functions, one module per subject. A query never writes.

Dashboards aggregate in SQL (GROUP BY per area); no function here loads every
record of a large table into pandas.
"""
