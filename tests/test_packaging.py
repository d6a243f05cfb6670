"""What a plain install carries: the notes' network ships with the package, identical to derivations/."""

from importlib import resources
from pathlib import Path


def test_the_shipped_notes_network_is_the_model_file():
    shipped = resources.files("jacobian_sym.notes").joinpath("one_layer.toml").read_text(encoding="utf-8")
    assert shipped == Path("derivations/one_layer.toml").read_text(encoding="utf-8"), (
        "copy derivations/one_layer.toml to jacobian_sym/notes/")


def test_the_shipped_audit_context_is_the_one_in_derivations():
    shipped = resources.files("jacobian_sym.notes").joinpath("notes.context.toml").read_text(encoding="utf-8")
    assert shipped == Path("derivations/notes.context.toml").read_text(encoding="utf-8"), (
        "copy derivations/notes.context.toml to jacobian_sym/notes/")


def test_the_shipped_notes_are_the_reference_text():
    """The notes ship with the package (js.errata audits them on a plain install); where the reference
    text is beside the repository, the copy is identical to it."""
    shipped = resources.files("jacobian_sym.notes").joinpath("computing-neural-network-gradients.md")
    text = shipped.read_text(encoding="utf-8")
    assert text.startswith("# Computing Neural Network Gradients")
    reference = Path(__file__).parents[2] / "shared" / "seed" / "computing-neural-network-gradients.md"
    if reference.exists():
        assert text == reference.read_text(encoding="utf-8")
