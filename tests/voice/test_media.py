"""`GET /media/…`: recordings served to the providers with caching headers, nothing else."""

from __future__ import annotations

import os

import pytest

from tests.audio import write_wav

URL = "/media/maternal_care/bm/visit.wav"


def test_a_recording_is_served_as_wav_with_caching_headers(client, settings):
    response = client.get(URL)
    assert response.status_code == 200
    assert response.mimetype == "audio/wav"
    path = settings.flows_dir / "recordings" / "maternal_care" / "bm" / "visit.wav"
    assert response.data == path.read_bytes()
    assert response.headers["ETag"] and response.headers["Last-Modified"]
    cache = response.headers["Cache-Control"]
    assert "public" in cache and "max-age=3600" in cache


def test_a_provider_revalidating_gets_a_304_until_the_recording_is_made_again(client, settings):
    etag = client.get(URL).headers["ETag"]
    assert client.get(URL, headers={"If-None-Match": etag}).status_code == 304
    path = settings.flows_dir / "recordings" / "maternal_care" / "bm" / "visit.wav"
    write_wav(path, seconds=0.8)
    os.utime(path, (path.stat().st_atime, path.stat().st_mtime + 10))
    again = client.get(URL, headers={"If-None-Match": etag})
    assert again.status_code == 200 and again.headers["ETag"] != etag


@pytest.mark.parametrize("path", [
    "/media/maternal_care/bm/../../maternal_care.yaml",
    "/media/maternal_care/bm/..%2F..%2Fmaternal_care.yaml",
    "/media/maternal_care/..%2Fbm/visit.wav",
    "/media//etc/passwd",
    "/media/maternal_care/bm/%2Fetc%2Fpasswd",
    "/media/maternal_care/bm/visit.wav%00.txt",
    "/media/maternal_care/bm/",
    "/media/maternal_care/",
    "/media/",
    "/media/maternal_care/bm/nothing.wav",
    "/media/maternal_care/bm/visit.mp3",
])
def test_anything_but_a_recording_is_a_404_and_nothing_is_listed(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert b"visit" not in response.data


def test_a_symlink_out_of_the_recordings_folder_is_not_followed(client, settings, tmp_path):
    secret = write_wav(tmp_path / "elsewhere" / "secret.wav")
    link = settings.flows_dir / "recordings" / "maternal_care" / "bm" / "leak.wav"
    link.symlink_to(secret)
    assert client.get("/media/maternal_care/bm/leak.wav").status_code == 404
