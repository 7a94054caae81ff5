"""Runnable one-layer OCI images built by the tests, without Docker or any base image.

The only file in the layer is a static Go binary (tests/node/image, standard library only, built
with CGO_ENABLED=0 and cached by source hash), so the image has an entrypoint a container runtime
can start. The same binary is the node's pause image (argument "pause") and the test image
(prints a line, sleeps). Layouts are written by hand: skopeo copies them to a registry
(`oci:<dir>:<tag>`), and `ctr images import` reads their tar archive.
"""

import gzip
import hashlib
import io
import json
import os
import subprocess
import tarfile

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SOURCE = os.path.join(REPO, "tests", "node", "image")
BINARY_NAME = "testimage"

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
EPOCH = "1970-01-01T00:00:00Z"


class ImageBuildError(Exception):
    pass


def _source_key():
    digest = hashlib.sha256()
    for name in sorted(os.listdir(SOURCE)):
        with open(os.path.join(SOURCE, name), "rb") as f:
            digest.update(name.encode() + b"\0" + f.read() + b"\0")
    return digest.hexdigest()[:12]


def binary():
    """Path of the static test binary, built once per source version (a few seconds on a warm Go cache)."""
    cache = os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"),
                         "ocp-registry-access", "testimage-%s" % _source_key())
    path = os.path.join(cache, BINARY_NAME)
    if os.access(path, os.X_OK):
        return path
    os.makedirs(cache, exist_ok=True)
    env = dict(os.environ, CGO_ENABLED="0", GOFLAGS="-trimpath -buildvcs=false")
    proc = subprocess.run(["go", "build", "-ldflags", "-s -w", "-o", path + ".tmp", "."], cwd=SOURCE, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=600, check=False)
    if proc.returncode != 0:
        raise ImageBuildError("building the test image's binary in %s failed:\n%s" % (SOURCE, proc.stdout[-2000:]))
    os.rename(path + ".tmp", path)
    return path


def _json_bytes(obj):
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


def _write_blob(oci_dir, data):
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    with open(os.path.join(oci_dir, "blobs", "sha256", digest.split(":", 1)[1]), "wb") as f:
        f.write(data)
    return {"digest": digest, "size": len(data)}


def build_layout(oci_dir, tag="latest", args=(), env=None, label="test"):
    """Writes an OCI image layout at oci_dir holding one linux/amd64 image tagged `tag`: one layer with
    /testimage, entrypoint ["/testimage"] + args, and env (a dict). `label` makes the image (and its
    digest) differ from other builds of the same binary. Returns the digests of manifest, config and layer."""
    os.makedirs(os.path.join(oci_dir, "blobs", "sha256"), exist_ok=True)
    with open(binary(), "rb") as f:
        program = f.read()
    layer_tar = io.BytesIO()
    with tarfile.open(fileobj=layer_tar, mode="w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo(BINARY_NAME)
        info.size, info.mode, info.mtime = len(program), 0o755, 0
        tar.addfile(info, io.BytesIO(program))
    uncompressed = layer_tar.getvalue()
    diff_id = "sha256:" + hashlib.sha256(uncompressed).hexdigest()
    layer = _write_blob(oci_dir, gzip.compress(uncompressed, compresslevel=1, mtime=0))
    env_list = ["PATH=/"] + ["%s=%s" % item for item in sorted((env or {}).items())]
    config = _write_blob(oci_dir, _json_bytes({
        "architecture": "amd64", "os": "linux", "created": EPOCH,
        "config": {"Entrypoint": ["/" + BINARY_NAME] + list(args), "Env": env_list,
                   "Labels": {"io.ocp-registry-access.test": label}},
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        "history": [{"created": EPOCH, "created_by": "tests/helpers/oci_image.py"}],
    }))
    manifest = _write_blob(oci_dir, _json_bytes({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": dict(config, mediaType=OCI_CONFIG),
        "layers": [dict(layer, mediaType=OCI_LAYER)],
    }))
    with open(os.path.join(oci_dir, "index.json"), "wb") as f:
        f.write(_json_bytes({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [dict(
            manifest, mediaType=OCI_MANIFEST, platform={"architecture": "amd64", "os": "linux"},
            annotations={"org.opencontainers.image.ref.name": tag})]}))
    with open(os.path.join(oci_dir, "oci-layout"), "wb") as f:
        f.write(_json_bytes({"imageLayoutVersion": "1.0.0"}))
    return {"manifest": manifest["digest"], "config": config["digest"], "layer": layer["digest"]}


def archive(oci_dir, tar_path):
    """The layout as a tar archive (what `ctr images import` reads)."""
    with tarfile.open(tar_path, "w") as tar:
        for name in ("oci-layout", "index.json", "blobs"):
            tar.add(os.path.join(oci_dir, name), arcname=name)
    return tar_path
