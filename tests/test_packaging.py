"""What a plain install carries: the notes' network ships with the package, identical to derivations/."""

from importlib import resources
from pathlib import Path


def test_the_shipped_notes_network_is_the_model_file():
    shipped = resources.files("jacobian_sym.notes").joinpath("one_layer.toml").read_text(encoding="utf-8")
    assert shipped == Path("derivations/one_layer.toml").read_text(encoding="utf-8"), (
        "copy derivations/one_layer.toml to jacobian_sym/notes/")
