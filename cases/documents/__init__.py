"""Documents generated from a case: context builders (queries) and renderers (pure, return bytes)."""
