"""Data generation, training and evaluation for the structure classifier."""
