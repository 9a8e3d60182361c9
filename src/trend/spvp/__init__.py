"""SPVP (specific viewpoints): map review sentences to the specific viewpoints of a viewpoint category.

Modules: ``viewpoints`` (file format, loader), ``offline`` (embedding classifier),
``prompting`` / ``openai_backend`` / ``hf_backend`` (Qwen), ``router`` (offline first,
uncertain sentences to the LLM), ``progress`` (batch commit, last_object_id, statuses),
``runner`` (the incremental job), ``semeval`` / ``evaluate`` (make eval-spvp).
"""
