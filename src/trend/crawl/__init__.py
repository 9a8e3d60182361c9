"""Crawl sync: claim wishlist items, hand them to a crawler, record the outcome."""
