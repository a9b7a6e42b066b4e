"""The figures a person checks after training or evaluation, printed a line each."""

from __future__ import annotations

from digit_model.metrics import commonest_letters_read, commonest_misreads
from training.figures import STYLE_TEST_SAMPLES
from training.sources import CVL_VALID


def source_summary(source: dict) -> str:
    """One source's figures in a line: digits read right, commonest misreads, digits flagged,
    letters flagged and those commonest let through."""
    letters = source["letters_flagged"]
    let_through = commonest_letters_read(source["letters_read_as"])
    return (
        f"{source['accuracy']:.2%} of {source['samples']} digits by {source['writers']} "
        f"writers (misread: {commonest_misreads(source['confusion_matrix'])}); "
        f"{source['digits_flagged']:.2%} flagged"
        + (
            f"; letters flagged {letters:.2%}, let through {let_through}"
            if letters is not None
            else ""
        )
    )


def report(metrics: dict) -> None:
    """Print the figures a person checks after training or evaluation."""
    lines = [
        (
            "test accuracy",
            f"{metrics['test_accuracy']:.2%} on {metrics['test_samples']} MNIST digits",
        ),
        (
            "per digit",
            "  ".join(f"{d}:{a:.2%}" for d, a in enumerate(metrics["per_digit_accuracy"])),
        ),
        ("  flagged not a digit", f"{metrics['test_flagged']:.2%}"),
        ("  calibration error", f"{metrics['test_calibration']['ece']:.2%}"),
    ]
    if metrics.get("canvas"):
        canvas = metrics["canvas"]
        lines.append(("canvas-style", f"{canvas['accuracy']:.2%} on {canvas['samples']} drawings"))
        lines += [
            (f"  {setup}", f"{share:.2%}") for setup, share in canvas["by_colour_setup"].items()
        ]
        lines.append(("  flagged not a digit", f"{canvas['digits_flagged']:.2%}"))
    if metrics.get("pen"):
        pen = metrics["pen"]
        lines.append(
            (
                "pen digits",
                f"{pen['accuracy']:.2%} on {pen['samples']} digits of {pen['writers']} "
                "held-out writers",
            )
        )
        lines += [(f"  {site}", f"{share:.2%}") for site, share in pen["by_site"].items()]
        lines.append(("  flagged not a digit", f"{pen['digits_flagged']:.2%}"))
        lines.append(("  calibration error", f"{pen['calibration']['ece']:.2%}"))
        lines.append(
            ("letters flagged", f"{pen['letters_flagged']:.2%} of {pen['letters']} letters")
        )
        lines += [(f"  {site}", f"{share:.2%}") for site, share in pen["letters_by_site"].items()]
        lines.append(
            ("symbols flagged", f"{pen['symbols_flagged']:.2%} of {pen['symbols']} symbols")
        )
        lines += [(f"  {kind}", f"{share:.2%}") for kind, share in pen["generated_flagged"].items()]
    if metrics.get("unseen_sources"):
        lines.append(("unseen sources", "no writer and no site of them in training"))
        lines += [
            (f"  {name}", source_summary(source))
            for name, source in metrics["unseen_sources"].items()
        ]
        ece = metrics["unseen_calibration"]["ece"]
        lines.append(("  calibration error", f"{ece:.2%}"))
    if metrics.get("scanned"):
        lines.append(("scanned again", f"{CVL_VALID} at fewer pixels across, as the page reads"))
        scans = metrics["scanned"].items()
        lines += [(f"  {side}", source_summary(source)) for side, source in scans]
    if metrics.get("coarse_scans"):
        lines.append(("coarse scans", "black-and-white grids, sent blocky, read as an upload"))
        scans = metrics["coarse_scans"].items()
        lines += [(f"  {name}", source_summary(source)) for name, source in scans]
    lines.append(("styles", f"on {STYLE_TEST_SAMPLES} MNIST test digits each"))
    lines += [(f"  {name}", f"{share:.2%}") for name, share in metrics["styles"].items()]
    lines.append(("temperature", f"{metrics['temperature']:.2f}"))
    lines.append(("parameters", f"{metrics['parameters']:,}"))
    lines.append(("file size", f"{metrics['file_size_bytes'] / 1e6:.2f} MB"))
    if "training_seconds" in metrics:
        minutes = metrics["training_seconds"] / 60
        lines.append(("training", f"{metrics['epochs']} epochs in {minutes:.1f} min"))
    for name, value in lines:
        print(f"{name:<24}{value}")
