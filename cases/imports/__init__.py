"""Excel batch import: pure parsing of the standard template into typed rows (no ORM)."""
