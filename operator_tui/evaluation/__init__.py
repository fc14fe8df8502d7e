"""Diagnosis evaluation: fault scenarios with ground truth, a runner over core and a subject, scoring."""
