"""Exports in other formats never write outside their folder: unsafe relative paths are refused with a stable
code, and a linked sub-folder leading out is not written through."""

from __future__ import annotations

from pathlib import Path

import pytest
from formats_support import DATA

from pba_tunnel.formats.native import safe_relative
from pba_tunnel.formats.transfer import export_foreign
from pba_tunnel.local_errors import UnsafeExportPathError
from pba_tunnel.service import TemplateService
from pba_tunnel.sync import import_path


@pytest.mark.parametrize(
    "relative", ["../x.prompt", "/etc/x.prompt", "a/../../x", ".hidden.prompt", "C:/x", "a\\b", ""]
)
def test_unsafe_relative_paths_are_refused(relative: str) -> None:
    with pytest.raises(UnsafeExportPathError) as caught:
        safe_relative(relative)
    assert caught.value.code == "unsafe_export_path"


def test_plain_relative_paths_pass() -> None:
    assert safe_relative("langfuse/_prompt-name-v1.prompt") == "langfuse/_prompt-name-v1.prompt"


@pytest.mark.anyio
async def test_a_linked_folder_leading_out_is_not_written_through(service: TemplateService, tmp_path: Path) -> None:
    await import_path(service, DATA / "langfuse")
    outside = tmp_path / "outside"
    outside.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    try:
        (out / "langfuse").symlink_to(outside, target_is_directory=True)
    except OSError:
        pytest.skip("this system does not let the test create symbolic links")
    report = await export_foreign(service, out, "dotprompt")
    assert [(Path(p).name, reason) for p, reason in report.failed] == [
        ("_prompt-name-v1.prompt", f"a symbolic link leading outside {out}: not written through")
    ]
    assert list(outside.iterdir()) == []
    assert len(report.written) == 5
