"""Several trained MLPs merged into one wider MLP that answers their consensus: the softmax of
their mean logits (the normalised geometric mean of their probabilities), optionally softened by
a temperature.

Networks that differ only in seed disagree on the writing styles `load_digits` lacks, and their
consensus reads those better than any one of them. Merged, they stay one scikit-learn
`MLPClassifier` with one `predict_proba`: the service pays one call, not one per network.
"""

import warnings

import numpy as np
from scipy.linalg import block_diag
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier


def merge_networks(networks, temperature=1.0):
    """One MLPClassifier whose logits are the mean of `networks`' logits divided by
    `temperature` (above 1, less confident answers; one network at 1 is returned as it is).

    The networks must share their classes, input size and activation. Their hidden layers
    are laid side by side (layer k of the result is all their layer-k units; a unit only
    sees the units of its own network below it, through block-diagonal weights), and the
    output layer adds up every network's contribution divided by their number.
    Raises ValueError for networks that cannot be merged.
    """
    networks = list(networks)
    first = networks[0]
    if len(networks) == 1 and temperature == 1.0:
        return first
    for network in networks[1:]:
        if (not np.array_equal(network.classes_, first.classes_)
                or network.n_features_in_ != first.n_features_in_
                or network.activation != first.activation
                or network.n_layers_ != first.n_layers_):
            raise ValueError("networks with different classes, inputs, activations or depths "
                             "cannot be merged")
    hidden_layers = first.n_layers_ - 2
    merged = fitted_shell(first, [sum(network.coefs_[layer].shape[1] for network in networks)
                                  for layer in range(hidden_layers)])
    merged.coefs_ = ([np.hstack([network.coefs_[0] for network in networks])]
                     + [block_diag(*[network.coefs_[layer] for network in networks])
                        for layer in range(1, hidden_layers)]
                     + [np.vstack([network.coefs_[-1] for network in networks])
                        / (len(networks) * temperature)])
    merged.intercepts_ = ([np.concatenate([network.intercepts_[layer] for network in networks])
                           for layer in range(hidden_layers)]
                          + [np.mean([network.intercepts_[-1] for network in networks],
                                     axis=0) / temperature])
    return merged


def fitted_shell(like, hidden_layer_sizes):
    """An MLPClassifier with `like`'s settings and classes and these hidden layer sizes, whose
    weights are then replaced: fitted for one step on one row per class so that scikit-learn
    sets every attribute a fitted network has.

    The step is taken by L-BFGS (which keeps no optimizer state: Adam's would be pickled with
    the model, three times its weights) on layers one unit wide (its leftover copy of the
    weights is a few numbers); the shell then takes `like`'s solver and the sizes asked for."""
    sizes = tuple(hidden_layer_sizes)
    shell = MLPClassifier(**{**like.get_params(), "hidden_layer_sizes": (1,) * len(sizes),
                             "max_iter": 1, "solver": "lbfgs"})
    rows = np.zeros((len(like.classes_), like.n_features_in_))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # one step is all it is for
        shell.fit(rows, like.classes_)
    return shell.set_params(solver=like.solver, hidden_layer_sizes=sizes)
