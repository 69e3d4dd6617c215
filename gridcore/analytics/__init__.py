"""Pure computations on rows or frames (coverage, incidence, risk …); no database access."""
