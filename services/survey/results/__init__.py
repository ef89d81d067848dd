"""Survey results: the response-rate dashboard, per-question results with charts, breakdowns, exports."""
