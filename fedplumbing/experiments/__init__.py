"""Experiments: sweeps, stress tests, sensitivity, replay and the teaching app."""
