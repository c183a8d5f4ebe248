"""One network taught by several: fine-tuned until its logits match those of the networks merged
into one, it answers much as their consensus does at the cost of a single network.

Networks that differ only in seed read real handwriting better together than alone, but merged
(`digits.lab.ensemble`) they are as wide as all of them, and the service pays for every unit on
every digit of every request. So the shipped network is the first of them, fitted a few epochs
more to the merged network's logits on all their augmented rows (knowledge distillation with
the squared error on logits, as in Ba and Caruana, "Do deep nets really need to be deep?",
2014): it keeps its size, its input scale and its `predict_proba`.
"""

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPRegressor
from sklearn.utils import shuffle

from digits.lab.ensemble import fitted_shell


def logits(network, rows):
    """The inputs of `network`'s softmax for `rows`. Raises ValueError for an activation other
    than relu (the only one the networks here use)."""
    if network.activation != "relu":
        raise ValueError(f"logits of a {network.activation} network are not computed here")
    values = np.asarray(rows, dtype=np.float64)
    last = len(network.coefs_) - 1
    for layer, (weights, bias) in enumerate(zip(network.coefs_, network.intercepts_)):
        values = values @ weights + bias
        if layer < last:
            values = np.maximum(values, 0.0)
    return values


def distil(student, teacher, rows, epochs, scale=1.0):
    """A copy of `student` (an MLPClassifier) fitted for `epochs` passes over `rows` so that its
    logits match `teacher`'s: squared error, with the student's own weight decay, learning rate,
    batch size and seed. `rows` are what both networks take; the fit sees them divided by
    `scale`, as the networks were trained (the copy takes the same inputs as the student).

    Raises ValueError when the two networks do not answer the same classes.
    """
    if not np.array_equal(student.classes_, teacher.classes_):
        raise ValueError("a student learns the answers of a teacher of the same classes")
    rows = np.asarray(rows, dtype=np.float64)
    targets = logits(teacher, rows)
    # the softmax ignores a constant added to a row: fitting each row's level would be wasted
    targets -= targets.mean(axis=1, keepdims=True)
    inputs = rows / scale
    order = np.random.RandomState(student.random_state)  # the regressor's, drawn on in turn
    regressor = MLPRegressor(hidden_layer_sizes=student.hidden_layer_sizes,
                             alpha=student.alpha, batch_size="auto",  # one row: no warning
                             learning_rate_init=student.learning_rate_init, random_state=order)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        # one step on one row sets up every attribute a fitted regressor has; the weights are
        # then the student's
        regressor.partial_fit(inputs[:1], targets[:1])
        regressor.coefs_ = [weights.astype(np.float64, copy=True) for weights in student.coefs_]
        regressor.coefs_[0] *= scale
        regressor.intercepts_ = [bias.astype(np.float64, copy=True)
                                 for bias in student.intercepts_]
        # Each epoch sees the rows in a new order drawn from the same generator. The first is
        # a warm-started fit, which starts a new optimizer on the student's weights (the setup
        # step's must not carry over); partial_fit continues with that optimizer.
        regressor.set_params(batch_size=student.batch_size, shuffle=False, warm_start=True,
                             max_iter=1)
        for epoch in range(epochs):
            shown = shuffle(np.arange(len(inputs)), random_state=order)
            fit = regressor.fit if epoch == 0 else regressor.partial_fit
            fit(inputs[shown], targets[shown])
    taught = fitted_shell(student, student.hidden_layer_sizes)
    taught.coefs_ = [weights.copy() for weights in regressor.coefs_]
    taught.coefs_[0] /= scale
    taught.intercepts_ = [bias.copy() for bias in regressor.intercepts_]
    return taught
