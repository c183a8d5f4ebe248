"""Train the segmentation model and the digit classifier on load_digits, tune the classifier's
confidence threshold on the dev handwriting, and write artifacts/model.joblib + model.json and
artifacts/segmenter.joblib + segmenter.json.

    python train.py [--output-dir artifacts] [--seed 0] [--networks 3] [--cv-folds 3]
                    [--copies 5] [--max-iter N] [--tune-per-kind N] [--string-copies 5]
                    [--segmenter-only]

`--segmenter-only` trains the segmentation model alone and writes it beside the digit model
already in the output directory (whose threshold was tuned reading with the one before).
"""

import argparse

from pathlib import Path

from digits.lab.segmenter import STRING_COPIES, train_segmenter, write_segmenter
from digits.lab.training import COPIES, NETWORKS, TUNE_PER_KIND, split, train, write_artifacts


def main(argv=None):
    """Parse arguments, train, print the figures and write the artifacts."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output-dir", default="artifacts", help="where to write the model")
    parser.add_argument("--seed", type=int, default=0, help="seed for the split, augmentation "
                        "and network; network i uses seed + i (default 0)")
    parser.add_argument("--networks", type=int, default=NETWORKS,
                        help=f"networks whose merge teaches the first (default {NETWORKS}); "
                        "1: one network, untaught")
    parser.add_argument("--cv-folds", type=int, default=3,
                        help="cross-validation folds on the training split; 0 skips (default 3)")
    parser.add_argument("--copies", type=int, default=COPIES,
                        help=f"distorted copies of each training digit (default {COPIES})")
    parser.add_argument("--max-iter", type=int, default=None,
                        help="training epochs (default: the shipped hyper-parameters)")
    parser.add_argument("--tune-per-kind", type=int, default=TUNE_PER_KIND,
                        help="tune the threshold on the first N dev digits of each upload kind "
                        f"(default {TUNE_PER_KIND} of the 1000)")
    parser.add_argument("--string-copies", type=int, default=STRING_COPIES,
                        help="synthesised strings each training digit is written in, for the "
                        f"segmentation model (default {STRING_COPIES})")
    parser.add_argument("--segmenter-only", action="store_true",
                        help="train only the segmentation model, beside the digit model "
                        "already in the output directory")
    args = parser.parse_args(argv)
    model_path = Path(args.output_dir) / "model.joblib"
    if args.segmenter_only and not model_path.exists():
        parser.error(f"--segmenter-only: no digit model at {model_path}")
    train_images, heldout_images, _, _ = split(args.seed)
    segmentation = train_segmenter(train_images, heldout_images, seed=args.seed,
                                   copies=args.string_copies)
    if args.segmenter_only:
        segmenter_metadata = write_segmenter(segmentation, model_path)
        _print_segmenter(args.output_dir, segmentation, segmenter_metadata)
        return
    training = train(seed=args.seed, cv_folds=args.cv_folds, copies=args.copies,
                     max_iter=args.max_iter, networks=args.networks,
                     tune_per_kind=args.tune_per_kind, segmenter=segmentation.model)
    metadata = write_artifacts(training, args.output_dir)
    segmenter_metadata = write_segmenter(segmentation, model_path)
    print(training.report)
    print(f"held-out accuracy: {training.heldout_accuracy:.4f} "
          f"({training.test_samples} load_digits images never trained on)")
    print(f"held-out ECE:      {training.heldout_ece:.4f}")
    if training.cv_accuracy is not None:
        print(f"{training.cv_folds}-fold CV accuracy: {training.cv_accuracy:.4f} "
              f"± {training.cv_accuracy_std:.4f}")
    print(f"confidence threshold: {training.threshold} (marks {training.uncertain_share:.1%} "
          "of the dev handwriting uncertain)")
    print(f"training time:     {training.training_seconds:.1f} s (threshold tuning included)")
    print(f"wrote {args.output_dir}/model.joblib (sha256 {metadata['sha256'][:12]}...) "
          "and model.json")
    _print_segmenter(args.output_dir, segmentation, segmenter_metadata)


def _print_segmenter(output_dir, segmentation, metadata):
    """Print how the segmentation model did and where it was written."""
    print(f"segmentation model: {segmentation.accuracy:.4f} of {segmentation.heldout_pieces} "
          "pieces of held-out strings judged right (one digit, fragment, several); "
          f"{segmentation.training_seconds:.1f} s")
    print(f"wrote {output_dir}/segmenter.joblib "
          f"(sha256 {metadata['sha256'][:12]}...) and segmenter.json")


if __name__ == "__main__":
    main()
