"""Calibrated behavioural parameters (calibrated.toml), written by `fedplumbing calibrate`."""
