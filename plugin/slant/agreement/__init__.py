"""Inter-annotator agreement: coefficients, bootstrap intervals, span agreement, reports."""
