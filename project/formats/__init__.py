"""Number formats of the product's locale (settings.FORMAT_MODULE_PATH)."""
