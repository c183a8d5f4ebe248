"""Train the digit classifier on load_digits and write artifacts/model.joblib + model.json.

    python train.py [--output-dir artifacts] [--seed 0] [--networks 3] [--cv-folds 3]
                    [--copies 5] [--max-iter N]
"""

import argparse

from digits.lab.training import COPIES, NETWORKS, train, write_artifacts


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
    args = parser.parse_args(argv)
    model, results = train(seed=args.seed, cv_folds=args.cv_folds, copies=args.copies,
                           max_iter=args.max_iter, networks=args.networks)
    metadata = write_artifacts(model, results, args.output_dir)
    print(results["report"])
    print(f"held-out accuracy: {results['heldout_accuracy']:.4f} "
          f"({results['test_samples']} load_digits images never trained on)")
    print(f"held-out ECE:      {results['heldout_ece']:.4f}")
    if results["cv_accuracy"] is not None:
        print(f"{results['cv_folds']}-fold CV accuracy: {results['cv_accuracy']:.4f} "
              f"± {results['cv_accuracy_std']:.4f}")
    print(f"training time:     {results['training_seconds']:.1f} s")
    print(f"wrote {args.output_dir}/model.joblib (sha256 {metadata['sha256'][:12]}...) "
          "and model.json")


if __name__ == "__main__":
    main()
