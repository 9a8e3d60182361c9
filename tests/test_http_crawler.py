"""The Crawler Service client against a real local HTTP server."""

import pytest

from tests.local_http import LocalJsonServer
from trend.crawl.http_client import CrawlerServiceError, HttpCrawlerClient, HttpCrawlerConfig
from trend.crawl.items import CrawlItem, CrawlKind
from trend.status import CrawlStatus, Mall


class FakeCrawlerService(LocalJsonServer):
    """Scripted service: ``post_failures`` 503s before accepting, ``polls_until_done`` running polls."""

    def __init__(self, post_failures=0, polls_until_done=1, job_status="done", item_status=None):
        self.post_failures = post_failures
        self.polls_until_done = polls_until_done
        self.job_status = job_status
        self.item_status = item_status or {}
        self.requests = []
        self.items = []
        super().__init__()

    def respond(self, method, path, headers, body):
        self.requests.append((method, path, headers.get("Authorization")))
        if method == "POST":
            if self.post_failures > 0:
                self.post_failures -= 1
                return 503, {"error": "busy"}
            self.items = body["items"]
            return 202, {"job_id": "job-1"}
        if self.polls_until_done > 0:
            self.polls_until_done -= 1
            return 200, {"status": "running", "items": []}
        items = [
            {
                "ref": i["ref"],
                "status": self.item_status.get(i["target"], "success"),
                "error": "blocked by mall" if self.item_status.get(i["target"]) == "error" else None,
                "found_products": [i["target"]],
            }
            for i in self.items
        ]
        return 200, {"status": self.job_status, "items": items}


@pytest.fixture
def service_factory():
    made = []

    def make(**kwargs):
        made.append(FakeCrawlerService(**kwargs))
        return made[-1]

    yield make
    for service in made:
        service.close()


ITEMS = [
    CrawlItem(CrawlKind.PRODUCT_REVIEWS, 1, 10, Mall.RAKUTEN, "P-1", 50),
    CrawlItem(CrawlKind.SEARCH_QUERY, 2, 10, Mall.RAKUTEN, "earbuds", 5),
]


def _client(url, **kwargs):
    return HttpCrawlerClient(
        HttpCrawlerConfig(base_url=url, token="s3cret", backoff_base=0.01, poll_interval=0.01, **kwargs)
    )


def test_submit_retries_on_503_then_polls_to_done(service_factory):
    service = service_factory(post_failures=2, polls_until_done=2)
    outcomes = _client(service.url).crawl(ITEMS)
    assert [o.status for o in outcomes] == [CrawlStatus.SUCCESS, CrawlStatus.SUCCESS]
    assert outcomes[1].found_products == ["earbuds"] and outcomes[0].job_id == "job-1"
    assert [r[0] for r in service.requests] == ["POST"] * 3 + ["GET"] * 3
    assert all(r[2] == "Bearer s3cret" for r in service.requests)
    assert service.items[0] == {
        "ref": "product_reviews:1",
        "kind": "product_reviews",
        "mall_id": Mall.RAKUTEN,
        "target": "P-1",
        "limit": 50,
    }


def test_per_item_errors_and_cancellations_are_kept(service_factory):
    service = service_factory(item_status={"P-1": "error", "earbuds": "canceled"})
    first, second = _client(service.url).crawl(ITEMS)
    assert (first.status, first.error) == (CrawlStatus.ERROR, "blocked by mall")
    assert second.status is CrawlStatus.CANCELED


def test_gives_up_after_retries_with_clear_error(service_factory):
    service = service_factory(post_failures=99)
    with pytest.raises(CrawlerServiceError, match=r"gave up after 3 attempts \(HTTP 503\)"):
        _client(service.url, max_retries=2).crawl(ITEMS)


def test_job_that_never_finishes_times_out_into_errors(service_factory):
    service = service_factory(polls_until_done=10**6)
    outcomes = _client(service.url, job_timeout=0.05).crawl(ITEMS)
    assert {o.status for o in outcomes} == {CrawlStatus.ERROR}
    assert "did not finish" in outcomes[0].error


def test_unreachable_service_raises(service_factory):
    with pytest.raises(CrawlerServiceError, match="ConnectionError"):
        _client("http://127.0.0.1:9", max_retries=1).crawl(ITEMS)


def test_token_never_appears_in_config_repr():
    assert "s3cret" not in repr(HttpCrawlerConfig(base_url="http://x", token="s3cret"))


def test_connection_extras_are_validated():
    config = HttpCrawlerConfig.from_extras("http://c", "t", {"job_timeout": "60", "max_retries": 2})
    assert (config.job_timeout, config.max_retries) == (60.0, 2)
    with pytest.raises(ValueError, match=r"unknown settings \['jobtimeout'\]"):
        HttpCrawlerConfig.from_extras("http://c", None, {"jobtimeout": 5})
    with pytest.raises(ValueError, match="poll_interval='soon' is not a number"):
        HttpCrawlerConfig.from_extras("http://c", None, {"poll_interval": "soon"})


class ForgetfulCrawlerService(FakeCrawlerService):
    """Reports the job done but leaves the last item out of its result."""

    def respond(self, method, path, headers, body):
        status, payload = super().respond(method, path, headers, body)
        if method == "GET" and payload.get("status") == "done":
            payload["items"] = payload["items"][:-1]
        return status, payload


def test_an_item_missing_from_a_finished_job_is_an_error_not_a_crash():
    service = ForgetfulCrawlerService(polls_until_done=0)
    try:
        outcomes = _client(service.url).crawl(ITEMS)
    finally:
        service.close()
    assert [o.status for o in outcomes] == [CrawlStatus.SUCCESS, CrawlStatus.ERROR]
    assert outcomes[1].error == "crawler job job-1: missing from job result"
