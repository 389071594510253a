"""Pre-loan assessment (贷前评估, L1): applicants, versioned scorecards, the collection-history check, review."""
