"""Reports in S3, against the moto server over HTTP with real boto3, and through faults."""

from __future__ import annotations

from typing import Any

import pytest

from runtime import reports
from runtime.reports import Report, ReportError, S3ReportStore, StorageError, make_s3_client
from tests.s3proxy import s3_proxy
from tests.s3server import closed_port_endpoint, moto_server

pytestmark = pytest.mark.slow

SHA = "ab" * 32


@pytest.fixture(scope="module")
def s3():
    with moto_server() as server:
        yield server


def make(n: int = 0, reporter: str = "key-1") -> Report:
    return reports.new_report(
        text=f"Your parcel {n} is held: pay the fee",
        label="spam",
        reporter=reporter,
        model_sha256=SHA,
        now=1_796_000_000 + n,
    )


def store_at(endpoint: str, bucket: str, prefix: str = "reports/") -> S3ReportStore:
    return S3ReportStore(bucket, prefix, make_s3_client(endpoint))


def test_a_report_is_one_object_under_the_prefix_and_reads_back(s3):
    bucket = s3.bucket()
    store = store_at(s3.endpoint_url, bucket)
    report = make()
    assert store.put(report) is True
    keys = [o["Key"] for o in s3.client.list_objects_v2(Bucket=bucket)["Contents"]]
    assert keys == [f"reports/{report.report_id}.json"]
    stored = s3.client.get_object(Bucket=bucket, Key=keys[0])
    assert stored["ContentType"] == "application/json"
    assert reports.parse(stored["Body"].read()) == report
    assert store.read(report.report_id) == report


def test_a_retried_report_is_stored_once_and_the_first_copy_kept(s3):
    bucket = s3.bucket(versioned=True)  # versions would show an overwrite
    store = store_at(s3.endpoint_url, bucket)
    first = make()
    later = first._replace(received_at="2027-01-01T00:00:00Z", model_sha256="cd" * 32)
    assert store.put(first) is True
    assert store.put(later) is False
    versions = s3.client.list_object_versions(Bucket=bucket)["Versions"]
    assert len(versions) == 1
    assert store.read(first.report_id) == first


def test_listing_pages_past_foreign_keys_under_the_prefix(s3):
    bucket = s3.bucket()
    store = store_at(s3.endpoint_url, bucket)
    ids = sorted(make(n).report_id for n in range(5))
    for n in range(5):
        store.put(make(n))
    for name in ("0-notes.txt", "00.json", "README"):
        s3.client.put_object(Bucket=bucket, Key=f"reports/{name}", Body=b"x")
    s3.client.put_object(Bucket=bucket, Key="elsewhere/" + ids[0] + ".json", Body=b"x")
    assert store.list_ids(limit=2) == ids[:2]
    assert store.list_ids(start_after=ids[1], limit=2) == ids[2:4]
    assert list(reports.all_ids(store, page=2)) == ids


def test_reading_refuses_oversized_and_mismatched_objects(s3):
    bucket = s3.bucket()
    store = store_at(s3.endpoint_url, bucket)
    big, mismatched = "11" * 32, "22" * 32
    s3.client.put_object(
        Bucket=bucket, Key=f"reports/{big}.json", Body=b" " * (reports.MAX_REPORT_BYTES + 1)
    )
    s3.client.put_object(
        Bucket=bucket, Key=f"reports/{mismatched}.json", Body=reports.render(make())
    )
    with pytest.raises(ReportError, match="a report has at most 524288"):
        store.read(big)
    with pytest.raises(ReportError, match=f"holds report {make().report_id}"):
        store.read(mismatched)
    with pytest.raises(ReportError, match="no report"):
        store.read("33" * 32)


@pytest.mark.parametrize("fault", ["stall", "error500"])
def test_a_put_whose_answer_was_lost_is_retried_and_acknowledged_once(s3, fault):
    # The proxy forwards the PUT, so moto stores the report, then the answer is lost:
    # the retry's If-None-Match finds it and the put succeeds without a second write.
    bucket = s3.bucket(versioned=True)
    with s3_proxy(s3.endpoint_url, fault, "pass") as proxy:
        store = store_at(proxy.endpoint_url, bucket)
        assert store.put(make()) is False  # found stored by the retry
        assert sum(line.startswith("PUT ") for line in proxy.forwarded) == 2
    assert len(s3.client.list_object_versions(Bucket=bucket)["Versions"]) == 1
    assert store_at(s3.endpoint_url, bucket).read(make().report_id) == make()


def test_a_put_that_keeps_failing_is_a_storage_error(s3):
    bucket = s3.bucket()
    with s3_proxy(s3.endpoint_url, "error500") as proxy:
        with pytest.raises(StorageError, match="InternalError"):
            store_at(proxy.endpoint_url, bucket).put(make())
        assert sum(line.startswith("PUT ") for line in proxy.forwarded) == reports.S3_MAX_ATTEMPTS


def test_an_unreachable_s3_is_a_storage_error():
    with pytest.raises(StorageError, match="cannot store the report in s3://bucket-x/reports/"):
        store_at(closed_port_endpoint(), "bucket-x").put(make())


def test_a_missing_bucket_is_a_storage_error(s3):
    with pytest.raises(StorageError, match="NoSuchBucket"):
        store_at(s3.endpoint_url, "no-such-bucket-here").put(make())


def test_from_uri_validates_and_normalises_the_prefix(s3):
    bucket = s3.bucket()
    store = S3ReportStore.from_uri(f"s3://{bucket}/incoming", endpoint_url=s3.endpoint_url)
    assert store.describe() == f"s3://{bucket}/incoming/"
    store.put(make())
    assert store.list_ids() == [make().report_id]


def test_through_s3_faults_every_acknowledged_report_is_stored(s3: Any) -> None:
    """POST /feedback through a faulty network: each 202 is readable, each failure a 503."""
    import json
    import random

    from runtime.adapter import create_adapter
    from runtime.config import Settings
    from runtime.model_source import ModelHolder
    from tests import events
    from tests.fakes import FAKE_SOURCE, FakeModel

    bucket = s3.bucket()
    rng = random.Random(18)
    faults = [rng.choice(["pass", "error500", "error500", "reset"]) for _ in range(120)]
    faults += ["error500"] * 3 + ["pass"]  # at least one report fails all its attempts
    with s3_proxy(s3.endpoint_url, *faults) as proxy:
        settings = Settings(
            source=FAKE_SOURCE,
            reports_s3_uri=f"s3://{bucket}/reports/",
            s3_endpoint_url=proxy.endpoint_url,
        )
        app = create_adapter(settings, ModelHolder(FakeModel, FAKE_SOURCE))
        acknowledged, refused = [], []
        for n in range(40):
            payload = {
                "text": f"Toll balance {n} unpaid: settle at https://x.example/{n}",
                "label": "spam",
            }
            event = events.rest_v1(
                "POST",
                "/feedback",
                body=json.dumps(payload),
                headers={"Content-Type": "application/json"},
            )
            event["requestContext"]["identity"]["apiKeyId"] = "key-1"
            result = app(event, None)
            body = json.loads(result["body"])
            if result["statusCode"] == 202:
                acknowledged.append((body["report_id"], payload["text"]))
            else:
                assert result["statusCode"] == 503, result
                assert body["error"]["code"] == "storage_unavailable"
                assert int(result["headers"]["Retry-After"]) >= 1
                refused.append(payload["text"])
        assert acknowledged
        assert refused  # the fault list makes some reports fail: the test can tell
    direct = store_at(s3.endpoint_url, bucket)
    for report_id, text in acknowledged:
        stored = direct.read(report_id)
        assert (stored.text, stored.reporter, stored.label) == (text, "key-1", "spam")
    assert set(direct.list_ids()) >= {report_id for report_id, _ in acknowledged}


def test_a_retired_report_moves_beside_the_prefix_and_can_be_requeued(s3):
    bucket = s3.bucket()
    store = store_at(s3.endpoint_url, bucket, "feedback/reports/")
    assert store.retired_prefix == "feedback/retired/"
    assert S3ReportStore(bucket, "reports/").retired_prefix == "retired/"  # the template's
    reports_ = [make(i) for i in range(3)]
    for r in reports_:
        store.put(r)
    assert store.retire_many([r.report_id for r in reports_[:2]], "gate_refused") == 2
    assert store.retire(reports_[0].report_id, "gate_refused") is False  # moved already
    assert store.list_ids() == [reports_[2].report_id]
    listed = s3.client.list_objects_v2(Bucket=bucket, Prefix="feedback/retired/")["Contents"]
    assert {o["Key"] for o in listed} == {
        f"feedback/retired/gate_refused/{r.report_id}.json" for r in reports_[:2]
    }
    key = f"feedback/retired/gate_refused/{reports_[0].report_id}.json"
    s3.client.copy_object(
        Bucket=bucket,
        Key=f"feedback/reports/{reports_[0].report_id}.json",
        CopySource={"Bucket": bucket, "Key": key},
    )
    assert store.read(reports_[0].report_id) == reports_[0]  # requeued, intact
    with pytest.raises(ReportError, match="retired area"):
        S3ReportStore(bucket, "retired/").retire(reports_[1].report_id, "rolled_back")
