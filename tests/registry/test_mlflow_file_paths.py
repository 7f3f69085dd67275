"""list_files rejects a file whose name no manifest may list, naming the file in the store."""

import pytest
from django.core.exceptions import ValidationError

from apps.registry.mlflow import list_files


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("\u202etxt.exe", "U+202E (RIGHT-TO-LEFT OVERRIDE)"),
        ("a\\b.bin", "contains a backslash"),
        ("~notes", "starts with '~'"),
        ("line\nbreak", "control character U+000A"),
    ],
)
def test_list_files_rejects_name(tmp_path, name, fragment):
    folder = tmp_path / "artifacts"
    folder.mkdir()
    (folder / "ok.bin").write_bytes(b"fine")
    (folder / name).write_bytes(b"hidden")

    with pytest.raises(ValidationError) as raised:
        list_files(folder, within=tmp_path)

    message = raised.value.messages[0]
    assert str(folder / name) in message
    assert fragment in message
    assert "Rename the file in the store" in message


def test_list_files_accepts_plain_names(tmp_path):
    folder = tmp_path / "artifacts"
    (folder / "data").mkdir(parents=True)
    (folder / "data" / "weights.bin").write_bytes(b"w")
    (folder / ".config").write_bytes(b"c")

    listed = list_files(folder, within=tmp_path)

    assert [entry.path for entry in listed] == [".config", "data/weights.bin"]
