# UI plugin (plugins/trend_ui.py → trend.ui): tests, screenshots for the README, page-load bench.
.PHONY: test-ui screenshots bench-ui

test-ui: setup ## API tests + headless Chromium test under a real api-server
	$(PY) -m pytest tests/ui -q

screenshots: setup ## regenerate docs/img/ui-*.png (own databases, real api-server, headless Chromium)
	$(PY) -m trend_dev.ui_screenshots docs/img

bench-ui: setup ## every endpoint and page on a 100k-sentence dataset vs the 1 s budget
	$(PY) -m trend_dev.benchmarks.ui_bench
