"""Handwritten digit recognition: preprocessing, training, prediction and evaluation."""
