"""The offline lab: augmentation and training, realistic uploads of the evaluation
handwriting, evaluation. Never imported by the service."""
