"""analyzer_batch: a dataset's products, similarities, viewpoints and sentiment.

Pure DataFrame transforms live in their own modules (similarity, clustering, sentiment,
labelling); ``job.run`` wires extract → transform → load with the dataset lifecycle.
"""
