"""How far the shipped recipe's reading of real handwriting moves with the seed alone, and what
those networks merged into one read (`digits.lab.ensemble`): the noise any change tuned on the
dev split must clear.

    python -m digits.lab.seeds [--seeds 0 1 2 3] [--split dev] [--per-kind N] [--copies N]
                               [--max-iter N]

Every network is trained on the same `load_digits` split (seed 0's, the shipped one), so the
held-out figure compares them on the same 360 digits; the seed changes the augmentation and the
network's initialisation. The handwriting is rendered as uploads and read once, by the shipped
model (which only decides where touching ink is cut), and every network then answers the same
8x8 images.
"""

import argparse

import numpy as np
from joblib import Parallel, delayed

from digits.core.model import SHIPPED_MODEL, probabilities
from digits.core.reading import load_reader
from digits.lab.ensemble import merge_networks
from digits.lab.evaluation import kind_uploads, read_uploads
from digits.lab.handwriting import SPLITS, handwriting
from digits.lab.training import COPIES, split, train
from digits.lab.uploads import KINDS

SHIPPED_SPLIT = 0  # the load_digits split every network of a study is trained and held out on


def uploaded_pixels(reader, split_name="dev", per_kind=None, n_jobs=2):
    """Every digit of a handwriting split rendered as each kind of upload and read by `reader`
    as POST /predict reads it: (pixels of shape (kinds, digits, 64), with NaN rows where the
    upload was refused, and the labels)."""
    images, labels = handwriting(split_name, per_kind)
    pixels = Parallel(n_jobs=n_jobs)(
        delayed(_kind_pixels)(reader, kind, images, SPLITS[split_name].start) for kind in KINDS)
    return np.stack(pixels), labels


def scores(estimator, pixels, labels, heldout):
    """What one network (or a merge) reads: mean accuracy over kinds, the worst kind's,
    each digit's (kinds pooled; None for a digit the slice lacks) and held-out `load_digits`
    accuracy (`heldout`: images, labels). A refused upload counts as wrong."""
    answered = ~np.isnan(pixels[..., 0])
    answers = probabilities(estimator, np.nan_to_num(pixels)).reshape(*answered.shape, 10)
    right = answered & (answers.argmax(axis=2) == labels)
    per_kind = right.mean(axis=1)
    heldout_images, heldout_labels = heldout
    return {"mean": float(per_kind.mean()), "worst_kind": float(per_kind.min()),
            "per_digit": [float(right[:, labels == digit].mean()) if (labels == digit).any()
                          else None for digit in range(10)],
            "heldout": float((probabilities(estimator, heldout_images).argmax(axis=1)
                              == heldout_labels).mean())}


def study(seeds, split_name="dev", per_kind=None, copies=COPIES, max_iter=None, n_jobs=2,
          reader_path=SHIPPED_MODEL):
    """Train the recipe once per seed and score each network and their merge on the same
    uploads, read by the model at `reader_path`: {"seed N": scores, ..., "merged": scores}.

    Raises ModelUnavailable when that model cannot be loaded."""
    reader, _ = load_reader(reader_path)
    pixels, labels = uploaded_pixels(reader, split_name, per_kind, n_jobs)
    trained = Parallel(n_jobs=n_jobs)(
        delayed(train)(seed, cv_folds=0, copies=copies, max_iter=max_iter, networks=1,
                       split_seed=SHIPPED_SPLIT, n_jobs=1, tune=False)
        for seed in seeds)
    _, heldout_images, _, heldout_labels = split(SHIPPED_SPLIT)
    heldout = (heldout_images, heldout_labels)
    figures = {f"seed {seed}": scores(training.model, pixels, labels, heldout)
               for seed, training in zip(seeds, trained)}
    figures["merged"] = scores(merge_networks(training.model for training in trained), pixels,
                               labels, heldout)
    return figures


def report(figures, split_name):
    """The study as a table, one row per network and one for their merge."""
    accuracies = [row["mean"] for name, row in figures.items() if name != "merged"]
    lines = [f"real handwriting ({split_name} split), each network and their merge:",
             f"{'':<9}{'mean':>7}{'worst':>7}{'held-out':>9}   per digit 0-9"]
    for name, row in figures.items():
        lines.append(f"{name:<9}{row['mean']:>7.3f}{row['worst_kind']:>7.3f}{row['heldout']:>9.4f}"
                     "   " + " ".join(f"{value:.2f}" if value is not None else "   -"
                                    for value in row["per_digit"]))
    lines.append(f"spread of the mean over seeds: {min(accuracies):.3f} to {max(accuracies):.3f}"
                 " (a change smaller than this is not yet shown to be one)")
    return "\n".join(lines)


def main(argv=None):
    """Run the study and print its table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3])
    parser.add_argument("--split", choices=sorted(SPLITS), default="dev")
    parser.add_argument("--per-kind", type=int, default=None,
                        help="only the first N digits of the split (default: all 1000)")
    parser.add_argument("--copies", type=int, default=COPIES)
    parser.add_argument("--max-iter", type=int, default=None)
    args = parser.parse_args(argv)
    figures = study(args.seeds, args.split, args.per_kind, args.copies, args.max_iter)
    print(report(figures, args.split))


def _kind_pixels(reader, kind, images, offset):
    """One kind's uploads, rendered and read in the same worker: the 8x8 counts the reader
    found, as rows of 64 (NaN where the upload was refused), for other networks to answer."""
    digits = read_uploads(reader, kind_uploads(images, kind, offset))[0]
    return np.array([np.full(64, np.nan) if digit is None else digit.pixels.ravel()
                     for digit in digits])


if __name__ == "__main__":
    main()
