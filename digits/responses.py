"""Model answers as response bodies: what a client reads for each digit."""

import numpy as np


def prediction_body(probabilities, pixels, top_k, threshold):
    """The body for one digit: best digit, its confidence and whether that is under the
    `threshold`, the `top_k` most likely digits, all ten probabilities and the 8x8 image."""
    ranked = np.argsort(probabilities)[::-1]
    best = int(ranked[0])
    confidence = float(probabilities[best])
    return {
        "digit": best,
        "confidence": confidence,
        "uncertain": confidence < threshold,
        "top": [{"digit": int(d), "confidence": float(probabilities[d])} for d in ranked[:top_k]],
        "probabilities": [float(p) for p in probabilities],
        "pixels": np.asarray(pixels).astype(int).tolist(),
    }
