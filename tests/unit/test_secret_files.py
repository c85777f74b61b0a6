"""Key files made on first use appear whole, once, however many processes start together."""

from __future__ import annotations

import multiprocessing
import stat
from pathlib import Path

from accessctl.secret_files import write_once


def _write(path: str, data: bytes) -> None:
    write_once(Path(path), data)


def test_processes_racing_to_make_a_key_file_leave_one_whole_file_and_no_temporaries(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "signing-key.pem"
    contents = [bytes([65 + n]) * 4096 for n in range(8)]
    processes = [multiprocessing.Process(target=_write, args=(str(path), data)) for data in contents]
    for process in processes:
        process.start()
    for process in processes:
        process.join(30)
        assert process.exitcode == 0
    assert path.read_bytes() in contents  # one writer's whole key, never a mix or a partial file
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == [path.name]


def test_an_existing_key_file_is_left_as_it_is(tmp_path: Path) -> None:
    path = tmp_path / "key.pem"
    write_once(path, b"first")
    write_once(path, b"second")
    assert path.read_bytes() == b"first"
