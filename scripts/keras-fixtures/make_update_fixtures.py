#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes the model-update refusal fixtures of Tests/KerasModelTests/Fixtures: archives a model handoff must refuse.

The archives are built with Python's `tarfile` from the good fixtures make_fixtures.py wrote (lstm_relu_k3.h5 as
model.h5, as a SageMaker job packs it), each with one fault: cut short, a path that leaves the archive, a link, a
device or FIFO, a file besides the model and scaler.json. The wrong-layer model is saved by real Keras (run this in
the Keras 3 venv, after make_fixtures.py). Every archive is reproducible: fixed mtimes, owners and gzip header.

Usage: make_update_fixtures.py OUTPUT_FOLDER
"""

from __future__ import annotations

import gzip
import io
import json
import os
import sys
import tarfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

MTIME = 1_790_000_000
SCALER = {"mean": 612.4, "std": 410.9, "target_mean": 615.0, "target_std": 409.2}


def info(name: str, kind: bytes = tarfile.REGTYPE, size: int = 0, **fields) -> tarfile.TarInfo:
    entry = tarfile.TarInfo(name)
    entry.type, entry.size, entry.mtime = kind, size, MTIME
    entry.mode = 0o755 if kind == tarfile.DIRTYPE else 0o644
    entry.uid = entry.gid = 0
    entry.uname = entry.gname = "root"
    for key, value in fields.items():
        setattr(entry, key, value)
    return entry


def tar_bytes(members: list[tuple[tarfile.TarInfo, bytes | None]]) -> bytes:
    """An uncompressed ustar/pax archive of `members` (bytes for regular files, None for the rest)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for entry, body in members:
            if body is not None:
                entry.size = len(body)
                tar.addfile(entry, io.BytesIO(body))
            else:
                tar.addfile(entry)
    return buffer.getvalue()


def gzipped(data: bytes) -> bytes:
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0, compresslevel=9) as stream:
        stream.write(data)
    return buffer.getvalue()


def regular(name: str, body: bytes) -> tuple[tarfile.TarInfo, bytes]:
    return info(name), body


def embedding_model(out: Path) -> bytes:
    """A real Keras model with a layer the runtime does not compute (Embedding), as model.h5 bytes."""
    import keras  # noqa: PLC0415 - only this fixture needs Keras

    keras.utils.set_random_seed(20261125)
    model = keras.Sequential([keras.Input(shape=(10, 1)), keras.layers.Embedding(64, 4), keras.layers.Reshape((10, 4)),
                              keras.layers.LSTM(8), keras.layers.Dense(1)])
    path = out / "embedding_model.h5"
    model.save(path)
    body = path.read_bytes()
    path.unlink()
    return body


def main() -> int:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "Tests/KerasModelTests/Fixtures").resolve()
    model = (out / "lstm_relu_k3.h5").read_bytes()
    scaler = (json.dumps(SCALER, indent=1) + "\n").encode()
    written: dict[str, bytes] = {}

    # Cut short: a tar.gz cut at two thirds (the gzip stream ends early); a plain tar cut inside model.h5; a plain
    # tar cut exactly after model.h5's last block, so scaler.json and the end-of-archive blocks are missing
    # (libarchive reads that as a complete archive of one file).
    whole = tar_bytes([regular("model.h5", model), regular("scaler.json", scaler)])
    packed = gzipped(whole)
    written["bad_truncated.tar.gz"] = packed[: len(packed) * 2 // 3]
    written["bad_truncated_member.tar"] = whole[: 512 * 20]
    with tarfile.open(fileobj=io.BytesIO(whole)) as tar:
        member_end = tar.getmember("scaler.json").offset  # where scaler.json's header starts
    assert whole[member_end - 512: member_end] != bytes(512)
    written["bad_truncated_at_boundary.tar"] = whole[:member_end]

    # Paths that leave the folder they are unpacked in.
    written["bad_dotdot.tar.gz"] = gzipped(tar_bytes([regular("../model.h5", model)]))
    written["bad_dotdot_inner.tar.gz"] = gzipped(tar_bytes([regular("model.h5", model),
                                                            regular("assets/../../scaler.json", scaler)]))
    written["bad_absolute.tar.gz"] = gzipped(tar_bytes([regular("/opt/ml/model/model.h5", model)]))

    # Entries that are not plain files or folders.
    written["bad_symlink.tar.gz"] = gzipped(tar_bytes([
        regular("model.h5", model), (info("scaler.json", tarfile.SYMTYPE, linkname="/etc/passwd"), None)]))
    written["bad_hardlink.tar.gz"] = gzipped(tar_bytes([
        regular("model.h5", model), (info("scaler.json", tarfile.LNKTYPE, linkname="model.h5"), None)]))
    written["bad_device.tar.gz"] = gzipped(tar_bytes([
        regular("model.h5", model), (info("dev/sda", tarfile.BLKTYPE, devmajor=8, devminor=0), None)]))
    written["bad_fifo.tar.gz"] = gzipped(tar_bytes([
        regular("model.h5", model), (info("scaler.json", tarfile.FIFOTYPE), None)]))

    # More than the model and scaler.json (folders are fine; files are not).
    written["bad_extra_files.tar.gz"] = gzipped(tar_bytes([
        (info("code", tarfile.DIRTYPE), None), regular("model.h5", model), regular("scaler.json", scaler),
        regular("code/train.py", b"print('training')\n"), regular("notes.txt", b"run 42\n")]))

    # A real Keras model with an Embedding layer, packed as SageMaker packs model.h5.
    written["bad_layer_embedding.tar.gz"] = gzipped(tar_bytes([regular("model.h5", embedding_model(out))]))

    for name, data in written.items():
        (out / name).write_bytes(data)
        print(f"{name}: {len(data)} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
