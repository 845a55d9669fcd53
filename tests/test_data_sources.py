import time

import pytest

from painters.data import source
from painters.data.source import HubUnavailableError, hub_unavailable_reason, load_hub_dataset, local_path
from painters.data.text import read_jsonl, read_records, read_table


def test_local_path_tells_paths_from_hub_ids(tmp_path):
    (tmp_path / "x.jsonl").write_text("{}\n")
    assert local_path(tmp_path / "x.jsonl") == tmp_path / "x.jsonl"
    assert local_path(str(tmp_path)) == tmp_path
    assert local_path("ybisk/piqa") is None
    assert local_path("wikitext") is None
    for missing in [tmp_path / "nope", "./nope", "data/piqa/valid.jsonl", "valid.jsonl"]:
        with pytest.raises(FileNotFoundError, match="no such file"):
            local_path(missing)


@pytest.mark.parametrize("flag", ["HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE"])
def test_offline_flag_fails_fast_with_a_local_hint(monkeypatch, flag):
    for other in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE"):
        monkeypatch.delenv(other, raising=False)
    monkeypatch.setenv(flag, "1")
    start = time.monotonic()
    with pytest.raises(HubUnavailableError, match=f"{flag} is set.*local files instead: a JSONL file"):
        load_hub_dataset("org/some-dataset", split="test", local_hint="a JSONL file")
    assert time.monotonic() - start < 2


def test_unreachable_hub_fails_within_seconds(monkeypatch):
    for flag in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE"):
        monkeypatch.delenv(flag, raising=False)
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # discard port: refused at once
    monkeypatch.setattr(source, "_reachable", set())
    start = time.monotonic()
    with pytest.raises(HubUnavailableError, match=r"127\.0\.0\.1:9 is unreachable"):
        load_hub_dataset("org/some-dataset", split="test")
    assert time.monotonic() - start < 5


def test_probe_gives_up_after_its_timeout(monkeypatch):
    def hang(*args, **kwargs):
        time.sleep(3)

    monkeypatch.setattr(source.urllib.request, "urlopen", hang)
    start = time.monotonic()
    assert source._probe("https://hub.invalid", timeout=0.3) == "no answer within 0.3 s"
    assert time.monotonic() - start < 1


def test_reason_is_none_for_an_answering_endpoint(monkeypatch):
    import http.server
    import threading

    server = http.server.HTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)  # answers 501
    threading.Thread(target=server.handle_request, daemon=True).start()
    try:
        for flag in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE"):
            monkeypatch.delenv(flag, raising=False)
        monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{server.server_address[1]}")
        monkeypatch.setattr(source, "_reachable", set())
        assert hub_unavailable_reason() is None
    finally:
        server.server_close()


def test_text_readers(tmp_path):
    (tmp_path / "a.jsonl").write_text('{"x": 1}\n\n{"x": 2}\n')
    assert read_jsonl(tmp_path / "a.jsonl") == [{"x": 1}, {"x": 2}]
    (tmp_path / "b.tsv").write_text('s1\ts2\tscore\nHe said "hi\tno\t1.5\n')
    assert read_table(tmp_path / "b.tsv") == [{"s1": 'He said "hi', "s2": "no", "score": "1.5"}]
    assert read_table(tmp_path / "b.tsv", columns=["a", "b", "c"])[0] == {"a": "s1", "b": "s2", "c": "score"}
    (tmp_path / "c.txt").write_text("one line\n\n  two  \n")
    assert read_records(tmp_path / "c.txt") == [{"text": "one line"}, {"text": "two"}]
    (tmp_path / "bad.tsv").write_text("a\tb\n1\n")
    with pytest.raises(ValueError, match="row 1 has 1 fields"):
        read_table(tmp_path / "bad.tsv")
